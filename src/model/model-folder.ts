import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** The ONNX graphs a diffusers/optimum Stable Diffusion folder holds, by component folder name. */
export type ComponentName = 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_decoder' | 'vae_encoder';

/**
 * The model family decides how prompts condition the UNet: `stable-diffusion` (SD 1.x/2.x: one CLIP text encoder's
 * last hidden state) or `stable-diffusion-xl` (two text encoders' penultimate hidden states, the second one's pooled
 * embedding and the size micro-conditioning as added UNet inputs).
 */
export type ModelFamily = 'stable-diffusion' | 'stable-diffusion-xl';

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
  /** SD 1.x/2.x or SDXL, from the folder's JSON (the graphs are checked against it when they load). */
  readonly family: ModelFamily;
  /** Why the folder was taken for its family (for `info` and error messages). */
  readonly familyReason: string;
  /** The `tokenizer/` folder. */
  readonly tokenizerDir: string;
  /** SDXL's `tokenizer_2/` folder (the same vocabulary; pads with `!`). */
  readonly tokenizer2Dir?: string;
  /**
   * Path of each component's `model.onnx`; `vae_encoder` is absent when the folder has none, `text_encoder_2` is
   * there exactly for SDXL folders.
   */
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
  /**
   * Latent side of one tile of a tiled VAE decode, as diffusers computes it: the VAE's `sample_size` divided by
   * the VAE factor (64 for SD 1.x/2.x, 128 for SDXL).
   */
  readonly vaeTileLatentSize: number;
  /** `time_cond_proj_dim` of the UNet config (LCM-distilled UNets), when present. */
  readonly timeCondProjDim?: number;
  /**
   * SDXL's `force_zeros_for_empty_prompt` (model_index.json; diffusers' default true): with guidance and no negative
   * prompt, the negative conditioning is zeros instead of the encoded empty prompt. Always false for SD 1.x/2.x.
   */
  readonly forceZerosForEmptyPrompt: boolean;
  /** `num_hidden_layers` of each text encoder's config.json, when given (checked against the graph's outputs). */
  readonly textEncoderLayers: Readonly<Partial<Record<'text_encoder' | 'text_encoder_2', number>>>;
  /**
   * The VAE config's `force_upcast` (SDXL's VAE overflows in float16; diffusers then decodes in float32). An ONNX
   * graph's precision is fixed at export: an fp32 VAE is fed fp32, an fp16 one with this flag is reported as at risk.
   */
  readonly vaeForceUpcast: boolean;
  /** Bytes of every file in the component folders the pipeline loads (graphs and their external weights). */
  readonly weightBytes: number;
  /**
   * diffusers' safety checker, when the folder has both `safety_checker/model.onnx` and
   * `feature_extractor/preprocessor_config.json` (the CLIP preprocessing it needs).
   */
  readonly safetyChecker?: SafetyCheckerFiles;
  /** Why a safety checker that is partly there cannot be used (one of its two files is missing). */
  readonly safetyCheckerProblem?: string;
}

/** The files of a safety checker in a model folder. */
export interface SafetyCheckerFiles {
  /** `safety_checker/model.onnx`. */
  readonly modelFile: string;
  /** `feature_extractor/preprocessor_config.json`. */
  readonly preprocessorConfigFile: string;
  /** That file's content, verbatim. */
  readonly preprocessorConfig: Readonly<Record<string, unknown>>;
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

  const vaeConfig =
    readOptionalJsonObject(join(root, 'vae_decoder', 'config.json')) ?? readOptionalJsonObject(join(root, 'vae_encoder', 'config.json'));
  const unetConfig = readOptionalJsonObject(join(root, 'unet', 'config.json'));
  const { family, familyReason } = detectFamily(root, modelIndex, unetConfig);
  if (family === 'stable-diffusion-xl') checkSupportedXl(root, modelIndex);
  checkVaeLatentStatistics(vaeConfig);

  const tokenizerDir = join(root, 'tokenizer');
  for (const file of tokenizerFiles(tokenizerDir)) {
    requireFile(file, 'the CLIP tokenizer vocabulary (tokenizer/vocab.json and tokenizer/merges.txt, or tokenizer/tokenizer.json)');
  }
  const tokenizer2Dir = join(root, 'tokenizer_2');
  if (family === 'stable-diffusion-xl') {
    for (const file of tokenizerFiles(tokenizer2Dir)) {
      requireXlFile(
        file,
        "SDXL's second tokenizer (tokenizer_2/vocab.json and tokenizer_2/merges.txt, or tokenizer_2/tokenizer.json)",
        familyReason,
      );
    }
  }

  const modelFiles: Partial<Record<ComponentName, string>> = {};
  for (const component of requiredComponents) {
    modelFiles[component] = requireFile(join(root, component, 'model.onnx'), `the ${component} ONNX graph`);
  }
  if (family === 'stable-diffusion-xl') {
    modelFiles.text_encoder_2 = requireXlFile(
      join(root, 'text_encoder_2', 'model.onnx'),
      "SDXL's second text encoder (OpenCLIP ViT-bigG with projection: `text_embeds`, `hidden_states.N`)",
      familyReason,
    );
  }
  const encoderFile = join(root, 'vae_encoder', 'model.onnx');
  if (existsSync(encoderFile)) modelFiles.vae_encoder = encoderFile;

  const vaeScalingFactor = positiveNumber(vaeConfig?.['scaling_factor'], 0.18215, 'vae_decoder/config.json', 'scaling_factor');
  const vaeScaleFactor = 2 ** (lengthOf(vaeConfig?.['block_out_channels'], 4) - 1);
  const unetDownsampling = 2 ** (lengthOf(unetConfig?.['block_out_channels'], 4) - 1);
  const sampleSize = positiveNumber(unetConfig?.['sample_size'], 64, 'unet/config.json', 'sample_size');
  const timeCondProjDim = unetConfig?.['time_cond_proj_dim'];
  const textEncoderLayers: Partial<Record<'text_encoder' | 'text_encoder_2', number>> = {};
  for (const encoder of ['text_encoder', 'text_encoder_2'] as const) {
    const layers = readOptionalJsonObject(join(root, encoder, 'config.json'))?.['num_hidden_layers'];
    if (typeof layers === 'number' && Number.isInteger(layers) && layers > 0) textEncoderLayers[encoder] = layers;
  }
  const checker = findSafetyChecker(root);
  const vaeSampleSize = vaeConfig?.['sample_size'];
  const vaeTileSampleSize = Array.isArray(vaeSampleSize) ? Number(vaeSampleSize[0]) : Number(vaeSampleSize ?? 512);

  return {
    dir: root,
    name: typeof modelIndex['_name_or_path'] === 'string' ? (modelIndex['_name_or_path'] as string) : basename(root),
    modelIndex,
    schedulerConfig,
    family,
    familyReason,
    tokenizerDir,
    ...(family === 'stable-diffusion-xl' ? { tokenizer2Dir } : {}),
    modelFiles: modelFiles as ModelFolder['modelFiles'],
    vaeScalingFactor,
    vaeScaleFactor,
    sizeMultiple: vaeScaleFactor * unetDownsampling,
    nativeResolution: sampleSize * vaeScaleFactor,
    vaeTileLatentSize: Math.max(1, Math.trunc((vaeTileSampleSize > 0 ? vaeTileSampleSize : 512) / vaeScaleFactor)),
    ...(typeof timeCondProjDim === 'number' && timeCondProjDim > 0 ? { timeCondProjDim } : {}),
    forceZerosForEmptyPrompt: family === 'stable-diffusion-xl' && modelIndex['force_zeros_for_empty_prompt'] !== false,
    textEncoderLayers,
    vaeForceUpcast: vaeConfig?.['force_upcast'] === true,
    weightBytes: Object.values(modelFiles).reduce((sum, file) => sum + folderBytes(dirname(file)), 0),
    ...checker,
  };
}

/** A model_index.json entry that names a component (`["diffusers", "OnnxRuntimeModel"]`), not `[null, null]`. */
function indexNames(modelIndex: Readonly<Record<string, unknown>>, key: string): boolean {
  const entry = modelIndex[key];
  return Array.isArray(entry) && entry.some((part) => typeof part === 'string');
}

/**
 * SD 1.x/2.x or SDXL, from what the folder says about itself: the pipeline class in model_index.json, the second
 * text encoder or tokenizer it lists or holds, or a UNet config with SDXL's added time/text embedding.
 */
function detectFamily(
  root: string,
  modelIndex: Readonly<Record<string, unknown>>,
  unetConfig: Readonly<Record<string, unknown>> | undefined,
): { family: ModelFamily; familyReason: string } {
  const className = typeof modelIndex['_class_name'] === 'string' ? (modelIndex['_class_name'] as string) : '';
  const signals = [
    /StableDiffusionXL/i.test(className) ? `model_index.json names ${className}` : undefined,
    indexNames(modelIndex, 'text_encoder_2') || indexNames(modelIndex, 'tokenizer_2')
      ? 'model_index.json lists text_encoder_2/tokenizer_2'
      : undefined,
    unetConfig?.['addition_embed_type'] === 'text_time' ? 'unet/config.json has addition_embed_type "text_time"' : undefined,
    existsSync(join(root, 'text_encoder_2')) ? 'the folder has text_encoder_2/' : undefined,
  ].filter((signal): signal is string => signal !== undefined);
  if (signals.length > 0) return { family: 'stable-diffusion-xl', familyReason: signals.join('; ') };
  return { family: 'stable-diffusion', familyReason: `${className || 'a pipeline'} with one text encoder` };
}

/** SDXL folders this pipeline cannot draw with get a message saying what they are instead of a later layout error. */
function checkSupportedXl(root: string, modelIndex: Readonly<Record<string, unknown>>): void {
  const refiner = modelIndex['requires_aesthetics_score'] === true;
  const noFirstEncoder = !existsSync(join(root, 'text_encoder', 'model.onnx'));
  if (refiner || (noFirstEncoder && existsSync(join(root, 'text_encoder_2', 'model.onnx')))) {
    throw new UserError(
      'model.unsupportedFamily',
      `${root} looks like the SDXL refiner (${refiner ? 'model_index.json sets requires_aesthetics_score' : 'it has text_encoder_2 but no text_encoder'}): ` +
        'the refiner only finishes pictures of the SDXL base model (image-to-image with an aesthetic-score condition) and cannot draw from a prompt. ' +
        'Use an SDXL base model folder (both text encoders), e.g. an optimum export of stabilityai/stable-diffusion-xl-base-1.0.',
    );
  }
}

/**
 * VAEs trained on normalised latents (`latents_mean`/`latents_std` in their config, e.g. Playground v2.5) need a
 * different latent scaling and an EDM scheduler this pipeline does not have: refused rather than drawn wrongly.
 */
function checkVaeLatentStatistics(vaeConfig: Readonly<Record<string, unknown>> | undefined): void {
  const mean = vaeConfig?.['latents_mean'];
  const std = vaeConfig?.['latents_std'];
  if ((mean !== undefined && mean !== null) || (std !== undefined && std !== null)) {
    throw new UserError(
      'model.unsupportedFamily',
      'The VAE config sets latents_mean/latents_std (a model trained on normalised latents, such as Playground v2.5): ' +
        'such models need an EDM scheduler and a latent normalisation latentcord does not implement. Use an SD 1.x/2.x or SDXL model.',
    );
  }
}

function requireXlFile(path: string, what: string, familyReason: string): string {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new UserError(
      'model.fileMissing',
      `Model file ${path} is missing: this is a Stable Diffusion XL folder (${familyReason}), which needs ${what}. ` +
        'Download the whole folder again (`latentcord download-model` fetches every part), or export it with ' +
        '`optimum-cli export onnx --model <repo> --task text-to-image <folder>`.',
    );
  }
  return path;
}

/** The files a tokenizer folder must have: vocab.json and merges.txt, or only a tokenizer.json. */
function tokenizerFiles(dir: string): string[] {
  const fast = join(dir, 'tokenizer.json');
  const slow = [join(dir, 'vocab.json'), join(dir, 'merges.txt')];
  return slow.every((file) => !existsSync(file)) && existsSync(fast) ? [fast] : slow;
}

/** Bytes of the regular files directly in a folder (a graph and its external weight files). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(dir, entry.name)).size;
  }
  return total;
}

/** Looks for the safety checker's graph and its preprocessing config; both or neither make sense. */
function findSafetyChecker(root: string): Pick<ModelFolder, 'safetyChecker' | 'safetyCheckerProblem'> {
  const modelFile = join(root, 'safety_checker', 'model.onnx');
  const preprocessorConfigFile = join(root, 'feature_extractor', 'preprocessor_config.json');
  const hasModel = existsSync(modelFile) && statSync(modelFile).isFile();
  const hasConfig = existsSync(preprocessorConfigFile) && statSync(preprocessorConfigFile).isFile();
  if (hasModel && hasConfig) {
    const preprocessorConfig = readJsonObject(preprocessorConfigFile, "the safety checker's image preprocessing (CLIPImageProcessor)");
    return { safetyChecker: { modelFile, preprocessorConfigFile, preprocessorConfig } };
  }
  if (hasModel) {
    return { safetyCheckerProblem: `${modelFile} is there but ${preprocessorConfigFile} is missing, so it cannot be used` };
  }
  return {};
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
