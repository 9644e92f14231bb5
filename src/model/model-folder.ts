import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** The ONNX graphs a diffusers/optimum Stable Diffusion folder holds, by component folder name. */
export type ComponentName = 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder';

/** What {@link readModelFolder} found in a model folder, read from the folder's own JSON files. */
export interface ModelFolder {
  /** Absolute path of the folder. */
  readonly dir: string;
  /** A short display name (the folder name, or `_name_or_path` when the index has one). */
  readonly name: string;
  /** `model_index.json`, verbatim. */
  readonly modelIndex: Readonly<Record<string, unknown>>;
  /** `scheduler/scheduler_config.json`, verbatim. */
  readonly schedulerConfig: Readonly<Record<string, unknown>>;
  /** The `tokenizer/` folder. */
  readonly tokenizerDir: string;
  /** Path of each component's `model.onnx`; `vae_encoder` is absent when the folder has none. */
  readonly modelFiles: Readonly<Partial<Record<ComponentName, string>>> & {
    readonly text_encoder: string;
    readonly unet: string;
    readonly vae_decoder: string;
  };
  /** The VAE latent scaling factor (`scaling_factor` in the VAE config; diffusers' default 0.18215). */
  readonly vaeScalingFactor: number;
  /** Pixels per latent cell: `2 ** (len(vae.block_out_channels) - 1)`, 8 for every SD VAE. */
  readonly vaeScaleFactor: number;
  /**
   * Image sides must be multiples of this: the VAE factor times the UNet's down-sampling factor. ONNX
   * exports trace the UNet's up-sampling with a fixed scale factor, so latent sides that do not divide by
   * `2 ** (len(unet.block_out_channels) - 1)` cannot be concatenated with their skip connections.
   */
  readonly sizeMultiple: number;
  /** The UNet's `sample_size` × VAE factor: the resolution the model was trained at (512 for SD 1.x). */
  readonly nativeResolution: number;
  /** `time_cond_proj_dim` of the UNet config (LCM-distilled UNets), when present. */
  readonly timeCondProjDim?: number;
}

const requiredComponents = ['text_encoder', 'unet', 'vae_decoder'] as const;

/**
 * Reads a Stable Diffusion model folder in the diffusers ONNX layout (`OnnxStableDiffusionPipeline`, optimum's
 * `ORTStableDiffusionPipeline`). Checks that every required file exists and every JSON file parses; a missing
 * or malformed file is a {@link UserError} that names the file and what was expected. Loads no model weights.
 */
export function readModelFolder(dir: string): ModelFolder {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UserError(
      'model.folderMissing',
      `Model folder ${root} does not exist. Set LATENTCORD_MODEL_DIR (or \`modelDir\` in the config) to a diffusers ONNX Stable Diffusion folder, or run \`latentcord download-model\`.`,
    );
  }
  const modelIndex = readJsonObject(join(root, 'model_index.json'), 'the diffusers pipeline index (model_index.json)');
  const schedulerConfig = readJsonObject(join(root, 'scheduler', 'scheduler_config.json'), 'the scheduler configuration');

  const tokenizerDir = join(root, 'tokenizer');
  for (const file of ['vocab.json', 'merges.txt']) {
    requireFile(join(tokenizerDir, file), 'the CLIP tokenizer vocabulary (tokenizer/vocab.json and tokenizer/merges.txt)');
  }

  const modelFiles: Partial<Record<ComponentName, string>> = {};
  for (const component of requiredComponents) {
    modelFiles[component] = requireFile(join(root, component, 'model.onnx'), `the ${component} ONNX graph`);
  }
  const encoderFile = join(root, 'vae_encoder', 'model.onnx');
  if (existsSync(encoderFile)) modelFiles.vae_encoder = encoderFile;

  const vaeConfig =
    readOptionalJsonObject(join(root, 'vae_decoder', 'config.json')) ?? readOptionalJsonObject(join(root, 'vae_encoder', 'config.json'));
  const unetConfig = readOptionalJsonObject(join(root, 'unet', 'config.json'));

  const vaeScalingFactor = positiveNumber(vaeConfig?.['scaling_factor'], 0.18215, 'vae_decoder/config.json', 'scaling_factor');
  const vaeScaleFactor = 2 ** (lengthOf(vaeConfig?.['block_out_channels'], 4) - 1);
  const unetDownsampling = 2 ** (lengthOf(unetConfig?.['block_out_channels'], 4) - 1);
  const sampleSize = positiveNumber(unetConfig?.['sample_size'], 64, 'unet/config.json', 'sample_size');
  const timeCondProjDim = unetConfig?.['time_cond_proj_dim'];

  return {
    dir: root,
    name: typeof modelIndex['_name_or_path'] === 'string' ? (modelIndex['_name_or_path'] as string) : basename(root),
    modelIndex,
    schedulerConfig,
    tokenizerDir,
    modelFiles: modelFiles as ModelFolder['modelFiles'],
    vaeScalingFactor,
    vaeScaleFactor,
    sizeMultiple: vaeScaleFactor * unetDownsampling,
    nativeResolution: sampleSize * vaeScaleFactor,
    ...(typeof timeCondProjDim === 'number' && timeCondProjDim > 0 ? { timeCondProjDim } : {}),
  };
}

function requireFile(path: string, what: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new UserError('model.fileMissing', `Model file ${path} is missing: expected ${what} in the diffusers ONNX layout.`);
  }
  return path;
}

function readJsonObject(path: string, what: string): Record<string, unknown> {
  requireFile(path, what);
  const value = parseJson(path);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError('model.badJson', `Model file ${path} must hold a JSON object (${what}).`);
  }
  return value as Record<string, unknown>;
}

function readOptionalJsonObject(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  const value = parseJson(path);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function parseJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UserError('model.badJson', `Model file ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function positiveNumber(value: unknown, fallback: number, file: string, key: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new UserError('model.badConfig', `${file}: expected \`${key}\` to be a positive number, got \`${JSON.stringify(value)}\`.`);
  }
  return value;
}

function lengthOf(value: unknown, fallback: number): number {
  return Array.isArray(value) && value.length > 0 ? value.length : fallback;
}
