import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { readModelFolder, type ModelFolder } from '../model/model-folder.js';
import { latentFamilyOf, latentRgbFactors } from '../pipeline/components/latent-preview.js';
import type { FinalDecoder } from '../pipeline/components/picture-decoder.js';
import { LatentPreviewer } from '../pipeline/components/previewer.js';
import { TinyVaeDecoder, tinyDecoderConfigFrom } from '../pipeline/components/tiny-vae-decoder.js';
import type { VaeTilingMode } from '../pipeline/components/vae.js';
import { loadSafetyChecker, type SafetyChecker } from '../pipeline/safety-checker.js';
import { StableDiffusionPipeline } from '../pipeline/stable-diffusion.js';
import { SessionFactory, defaultRuntimeOptions, type RuntimeOptions } from '../runtime/session-factory.js';
import { memoryCheckedLoader } from './memory-check.js';

/** A loaded pipeline and the device it actually runs on. */
export interface Engine {
  readonly pipeline: StableDiffusionPipeline;
  /** Draws live previews (with the tiny decoder when there is one). */
  readonly previewer: LatentPreviewer;
  /** The TAESD-class decoder, when the folder (or the configured folder) has one. */
  readonly tinyDecoder?: TinyVaeDecoder;
  /** The device in use (`cpu` after a CUDA fallback). */
  readonly device: 'cpu' | 'cuda';
  /** Why CUDA was not used although it was asked for. */
  readonly deviceFallbackReason?: string;
  /** Milliseconds spent reading the folder and creating the sessions. */
  readonly loadMs: number;
  /** The model folder's safety checker (`safety_checker/`), when it has one. */
  readonly safetyChecker?: SafetyChecker;
  /** Why a safety checker that is partly there is not used. */
  readonly safetyCheckerProblem?: string;
}

/** How the engine decodes and batches, beyond the model folder's own graphs. */
export interface EngineOptions {
  /**
   * Folder of a TAESD-class tiny VAE decoder (`model.onnx`, optional `config.json`); undefined: the model
   * folder's `vae_decoder_tiny/` when it has one.
   */
  readonly tinyDecoderDir?: string | undefined;
  /** Which decoder draws the final pictures (default `vae`); `tiny` needs a tiny decoder. */
  readonly finalDecoder?: FinalDecoder;
  /** When the full VAE decoder tiles (default `never`, diffusers' default). */
  readonly vaeTiling?: VaeTilingMode;
  /** Most latent rows per UNet run; 0 or undefined: automatic (1 on the CPU, all on CUDA). */
  readonly maxUnetBatch?: number;
  /**
   * Load the model folder's safety checker (default true; a checker that cannot be loaded fails the load).
   * `info` loads without it, because it reports on the checker itself, usable or not.
   */
  readonly safetyChecker?: boolean;
}

/** Name of the tiny decoder's folder inside a model folder. */
export const tinyDecoderFolderName = 'vae_decoder_tiny';

/**
 * Reads a diffusers ONNX model folder and loads its graphs on the configured device. On the CPU it first says how much
 * memory the folder needs and refuses (`model.notEnoughMemory`) when the machine has less.
 */
export async function loadEngine(
  modelDir: string,
  options: RuntimeOptions = defaultRuntimeOptions,
  engineOptions: EngineOptions = {},
): Promise<Engine> {
  const started = performance.now();
  const folder = readModelFolder(modelDir);
  const sessions = new SessionFactory(options);
  const tinyDecoder = await loadTinyDecoder(folder, engineOptions.tinyDecoderDir, sessions);
  const finalDecoder = engineOptions.finalDecoder ?? 'vae';
  if (finalDecoder === 'tiny' && !tinyDecoder) {
    throw new UserError(
      'config.noTinyDecoder',
      `The final decoder is set to \`tiny\` (runtime.finalDecoder) but there is no tiny VAE decoder: put a TAESD-class decoder's model.onnx in ${join(folder.dir, tinyDecoderFolderName)}/ or set runtime.tinyDecoderDir.`,
    );
  }
  const load = memoryCheckedLoader(folder, sessions, options.log ? { log: options.log } : {});
  let pipeline: StableDiffusionPipeline;
  let safetyChecker: SafetyChecker | undefined;
  try {
    pipeline = await StableDiffusionPipeline.load(folder, load, {
      ...(tinyDecoder ? { tinyDecoder } : {}),
      finalDecoder,
      vaeTiling: engineOptions.vaeTiling ?? 'never',
    });
    if (engineOptions.safetyChecker !== false) safetyChecker = await loadSafetyChecker(folder, load);
  } catch (error) {
    await tinyDecoder?.release();
    throw error;
  }
  // On the CPU a batch in slices costs no time, and every extra row of one run keeps its working memory
  // (over 1 GB per row for SD 1.5 at 512²) for good; a GPU runs a whole batch faster than its rows one by one.
  pipeline.maxUnetBatch = engineOptions.maxUnetBatch || (sessions.device === 'cpu' ? 1 : 0);
  const previewer = new LatentPreviewer(latentRgbFactors[latentFamilyOf(folder.modelIndex)], tinyDecoder);
  const reason = sessions.fallbackReason;
  return {
    pipeline,
    previewer,
    ...(tinyDecoder ? { tinyDecoder } : {}),
    device: sessions.device,
    ...(reason ? { deviceFallbackReason: reason } : {}),
    loadMs: performance.now() - started,
    ...(safetyChecker ? { safetyChecker } : {}),
    ...(folder.safetyCheckerProblem ? { safetyCheckerProblem: folder.safetyCheckerProblem } : {}),
  };
}

async function loadTinyDecoder(
  folder: ModelFolder,
  configuredDir: string | undefined,
  sessions: SessionFactory,
): Promise<TinyVaeDecoder | undefined> {
  const dir = configuredDir ? resolve(configuredDir) : join(folder.dir, tinyDecoderFolderName);
  const modelPath = join(dir, 'model.onnx');
  if (!existsSync(modelPath)) {
    if (!configuredDir) return undefined;
    throw new UserError(
      'model.fileMissing',
      `The configured tiny VAE decoder folder ${dir} has no model.onnx (expected a TAESD-class decoder exported like diffusers' AutoencoderTiny).`,
    );
  }
  const configPath = join(dir, 'config.json');
  let config: Record<string, unknown> | undefined;
  if (existsSync(configPath)) {
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new UserError('model.badJson', `Model file ${configPath} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  const session = await sessions.load(modelPath);
  try {
    return new TinyVaeDecoder(session, folder.vaeScaleFactor, tinyDecoderConfigFrom(config, configPath));
  } catch (error) {
    await session.release();
    throw error;
  }
}
