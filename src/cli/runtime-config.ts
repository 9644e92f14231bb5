import { resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { UserError } from '../errors.js';
import { defaultModelDir } from './model-location.js';

/**
 * `--model` if given, else the configured model folder (`LATENTCORD_MODEL_DIR` / `modelDir`), else where the
 * default model is (or would be) downloaded. Never downloads; see `ensureModelDir` for that.
 */
export function resolveModelDir(config: Config, explicit: string | undefined, cwd: string): string {
  if (explicit) return resolve(cwd, explicit);
  if (config.modelDir) return resolve(cwd, config.modelDir);
  if (config.defaultModel.repo) return defaultModelDir(config);
  throw new UserError(
    'config.noModel',
    'No model folder given: pass --model DIR, set LATENTCORD_MODEL_DIR, or run `latentcord download-model`.',
  );
}
