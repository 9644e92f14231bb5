import { resolve } from 'node:path';
import { byteSize } from '../byte-size.js';
import { UserError } from '../errors.js';
import { createProgressReporter, downloadModel, type DownloadResult, type ProgressStream } from '../hub/index.js';
import { parseCommandArgs, stringOption } from './args.js';
import { modelFolderFor } from './model-location.js';

/** Usage of `download-model`. */
export const downloadModelUsage =
  'latentcord download-model <owner/name> [--revision R] [--dir DIR] [--subfolder S]\n' +
  '    Fetches a diffusers ONNX Stable Diffusion model from the Hugging Face Hub (HF_ENDPOINT for a mirror,\n' +
  '    HF_TOKEN for gated models). DIR defaults to <dataDir>/models/<owner>--<name> (./data/models/… unless\n' +
  '    LATENTCORD_DATA_DIR says otherwise), the folder the bot uses for LATENTCORD_MODEL_REPO=<owner>/<name>.';

/** Parsed arguments of `download-model`. */
export interface DownloadModelArgs {
  repo: string;
  revision?: string | undefined;
  dir: string;
  subfolder?: string | undefined;
}

/**
 * Parses `<repo> [--revision R] [--dir DIR] [--subfolder S]` (also `--name=value`); without `--dir` the
 * folder is {@link modelFolderFor} in `dataDir`, where the bot looks for `LATENTCORD_MODEL_REPO=<repo>`.
 *
 * @throws UserError `cli.usage` with {@link downloadModelUsage} on a wrong command line.
 */
export function parseDownloadModelArgs(argv: readonly string[], dataDir: string): DownloadModelArgs {
  const { positionals, values } = parseCommandArgs(
    argv,
    { revision: { type: 'string' }, dir: { type: 'string' }, subfolder: { type: 'string' } },
    downloadModelUsage,
  );
  if (positionals.length !== 1) {
    const problem =
      positionals.length === 0 ? 'Expected the model repository, as owner/name.' : `Unexpected argument \`${positionals[1]}\`.`;
    throw new UserError('cli.usage', `${problem}\n\nUsage: ${downloadModelUsage}`);
  }
  for (const name of ['revision', 'dir', 'subfolder']) {
    if (values[name] === '') throw new UserError('cli.usage', `\`--${name}\` needs a value.\n\nUsage: ${downloadModelUsage}`);
  }
  const repo = positionals[0]!;
  return {
    repo,
    revision: stringOption(values, 'revision'),
    dir: stringOption(values, 'dir') ?? modelFolderFor(dataDir, repo),
    subfolder: stringOption(values, 'subfolder'),
  };
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

/** Runs `download-model`: parses `argv`, downloads with a progress display, prints where the model is. */
export async function runDownloadModelCommand(argv: readonly string[], io: DownloadCommandIo): Promise<DownloadResult> {
  const parsed = parseDownloadModelArgs(argv, io.dataDir);
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
      `(${result.files.length} files, ${fetched} fetched, ${byteSize(result.bytesDownloaded)} downloaded).\n` +
      `Use it with LATENTCORD_MODEL_DIR=${result.dir}` +
      (result.dir === resolve(modelFolderFor(io.dataDir, result.repo))
        ? ` or LATENTCORD_MODEL_REPO=${result.repo} (the bot looks there for its default model).\n`
        : '\n'),
  );
  return result;
}
