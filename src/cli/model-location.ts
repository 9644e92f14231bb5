import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { UserError } from '../errors.js';
import { createProgressReporter, downloadModel, readManifest, type ProgressStream } from '../hub/index.js';

/**
 * The folder a model repository is downloaded to by default (`download-model` without `--dir`), and where the
 * bot looks for its default model (`defaultModel.repo`) when no model folder is configured:
 * `<dataDir>/models/<owner>--<name>`.
 */
export function modelFolderFor(dataDir: string, repo: string): string {
  return join(dataDir, 'models', repo.replaceAll('/', '--'));
}

/** The folder the default model is downloaded to: `<dataDir>/models/<owner>--<name>`. */
export function defaultModelDir(config: Config): string {
  return modelFolderFor(config.dataDir, config.defaultModel.repo);
}

/**
 * The model folder to use, downloading the default model first when none is configured. An explicit folder
 * (`--model`, `LATENTCORD_MODEL_DIR`, `modelDir`) is used as it is — never downloaded into. Without one, the
 * configured default model (`defaultModel.repo`) is fetched into the data folder once, with a progress bar,
 * resuming an interrupted download; a complete earlier download is reused without touching the network.
 */
export async function ensureModelDir(
  config: Config,
  explicit: string | undefined,
  cwd: string,
  progress: ProgressStream,
  signal?: AbortSignal,
): Promise<string> {
  if (explicit) return resolve(cwd, explicit);
  if (config.modelDir) return resolve(cwd, config.modelDir);
  const { repo, revision } = config.defaultModel;
  if (!repo) {
    throw new UserError(
      'config.noModel',
      'No model folder configured: set LATENTCORD_MODEL_DIR to a diffusers ONNX model folder, or set `defaultModel.repo` (LATENTCORD_MODEL_REPO) so one is downloaded.',
    );
  }
  const dir = defaultModelDir(config);
  const manifest = existsSync(dir) ? await readManifest(dir) : undefined;
  if (manifest?.complete && manifest.repo === repo && (manifest.requestedRevision === revision || manifest.revision === revision))
    return dir;

  progress.write(
    `No model folder configured: downloading the default model ${repo}@${revision} into ${dir} (only the ONNX files the pipeline needs).\n`,
  );
  const reporter = createProgressReporter(progress);
  try {
    await downloadModel({ repo, revision, targetDir: dir, onProgress: reporter.onProgress, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (error instanceof UserError && error.identifier === 'hub.unreachable') {
      throw new UserError(
        'hub.unreachable',
        `${error.message}\nTo run without the Hub: download a diffusers ONNX Stable Diffusion folder elsewhere (e.g. \`latentcord download-model ${repo}\` on a machine with internet), copy it here and set LATENTCORD_MODEL_DIR to it.`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    reporter.finish();
  }
  return dir;
}
