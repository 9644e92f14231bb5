/** Model download from the Hugging Face Hub: `downloadModel` and its progress display. */
export { downloadModel, defaultEndpoint, resolveUrl } from './download-model.js';
export type { DownloadModelOptions, DownloadProgress, DownloadResult, DownloadedFile } from './download-model.js';
export { createProgressReporter, formatDuration, renderProgressBar, renderProgressLine } from './progress.js';
export type { ProgressReporter, ProgressReporterOptions, ProgressStream } from './progress.js';
export { manifestFileName, readManifest } from './manifest.js';
export type { DownloadManifest, ManifestFile } from './manifest.js';
export { selectModelFiles } from './select-files.js';
export type { ModelSelection, RepoFile, SelectedFile } from './select-files.js';
