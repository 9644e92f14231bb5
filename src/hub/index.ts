/** Model download from the Hugging Face Hub: `downloadModel`, its progress display and the `download-model` command. */
export { downloadModel, defaultEndpoint, resolveUrl } from './download-model.js';
export type { DownloadModelOptions, DownloadProgress, DownloadResult, DownloadedFile } from './download-model.js';
export { createProgressReporter, formatBytes, formatDuration, renderProgressBar, renderProgressLine } from './progress.js';
export type { ProgressReporter, ProgressReporterOptions, ProgressStream } from './progress.js';
export { downloadModelUsage, modelFolderFor, parseDownloadModelArgs, runDownloadModelCommand } from './download-command.js';
export type { DownloadCommandIo, DownloadModelArgs } from './download-command.js';
export { manifestFileName, readManifest } from './manifest.js';
export type { DownloadManifest, ManifestFile } from './manifest.js';
export { selectModelFiles } from './select-files.js';
export type { ModelSelection, RepoFile, SelectedFile } from './select-files.js';
