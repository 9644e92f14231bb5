import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { downloadModel, type DownloadResult } from './download-model.js';
import { createProgressReporter, formatBytes, type ProgressStream } from './progress.js';

/** Usage text of the `download-model` command. */
export const downloadModelUsage =
  'usage: latentcord download-model <owner/name> [--revision R] [--dir DIR] [--subfolder S]\n' +
  '  Fetches a diffusers ONNX Stable Diffusion model from the Hugging Face Hub (HF_ENDPOINT for a mirror,\n' +
  '  HF_TOKEN for gated models). DIR defaults to <dataDir>/models/<owner>--<name> (./data/models/… unless\n' +
  '  LATENTCORD_DATA_DIR says otherwise), the folder the bot uses for LATENTCORD_MODEL_REPO=<owner>/<name>.';

/**
 * The folder a model repository is downloaded to by default, and where the bot looks for its default model
 * (`defaultModel.repo`) when no model folder is configured: `<dataDir>/models/<owner>--<name>`.
 */
export function modelFolderFor(dataDir: string, repo: string): string {
  return join(dataDir, 'models', repo.replaceAll('/', '--'));
}

/** Parsed arguments of `download-model`. */
export interface DownloadModelArgs {
  repo: string;
  revision?: string | undefined;
  dir: string;
  subfolder?: string | undefined;
}

/**
 * Parses `<repo> [--revision R] [--dir DIR] [--subfolder S]` (also `--name=value`); without `--dir` the
 * folder is {@link modelFolderFor} in `dataDir`.
 *
 * @throws UserError `cli.usage` with {@link downloadModelUsage} on a wrong command line.
 */
export function parseDownloadModelArgs(args: readonly string[], dataDir: string): DownloadModelArgs {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (!['revision', 'dir', 'subfolder'].includes(name)) throw usage(`unknown option --${name}`);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw usage(`--${name} needs a value`);
    values.set(name, value);
  }
  if (positional.length !== 1)
    throw usage(positional.length === 0 ? 'the model repository is missing' : `unexpected argument "${positional[1]}"`);
  const repo = positional[0]!;
  return {
    repo,
    revision: values.get('revision'),
    dir: values.get('dir') ?? modelFolderFor(dataDir, repo),
    subfolder: values.get('subfolder'),
  };
}

function usage(problem: string): UserError {
  return new UserError('cli.usage', `${problem}\n${downloadModelUsage}`);
}

/** Streams and environment the command uses; the process's own by default. */
export interface DownloadCommandIo {
  /** Gets the closing summary. */
  stdout: ProgressStream;
  /** Gets the progress display (a live line when it is a TTY). */
  stderr: ProgressStream;
  /** The configured data folder (`dataDir`), home of the default download folder. */
  dataDir: string;
  signal?: AbortSignal | undefined;
  fetch?: typeof fetch | undefined;
}

/** Runs `download-model`: parses `args`, downloads with a progress display, prints where the model is. */
export async function runDownloadModelCommand(args: readonly string[], io: DownloadCommandIo): Promise<DownloadResult> {
  const parsed = parseDownloadModelArgs(args, io.dataDir);
  const reporter = createProgressReporter(io.stderr);
  let result: DownloadResult;
  try {
    result = await downloadModel({
      repo: parsed.repo,
      revision: parsed.revision,
      targetDir: resolve(parsed.dir),
      subfolder: parsed.subfolder,
      onProgress: reporter.onProgress,
      signal: io.signal,
      fetch: io.fetch,
    });
  } finally {
    reporter.finish();
  }
  const fetched = result.files.filter((file) => file.status !== 'skipped').length;
  io.stdout.write(
    `Model ${result.repo}@${result.commit.slice(0, 12)} is ready in ${result.dir} ` +
      `(${result.files.length} files, ${fetched} fetched, ${formatBytes(result.bytesDownloaded)} downloaded).\n` +
      `Use it with LATENTCORD_MODEL_DIR=${result.dir}` +
      (result.dir === resolve(modelFolderFor(io.dataDir, result.repo))
        ? ` or LATENTCORD_MODEL_REPO=${result.repo} (the bot looks there for its default model).\n`
        : '\n'),
  );
  return result;
}
