import { readModelFolder } from '../model/model-folder.js';
import { StableDiffusionPipeline } from '../pipeline/stable-diffusion.js';
import { SessionFactory, defaultRuntimeOptions, type RuntimeOptions } from '../runtime/session-factory.js';
import { memoryCheckedLoader } from './memory-check.js';

/** A loaded pipeline and the device it actually runs on. */
export interface Engine {
  readonly pipeline: StableDiffusionPipeline;
  /** The device in use (`cpu` after a CUDA fallback). */
  readonly device: 'cpu' | 'cuda';
  /** Why CUDA was not used although it was asked for. */
  readonly deviceFallbackReason?: string;
  /** Milliseconds spent reading the folder and creating the sessions. */
  readonly loadMs: number;
}

/**
 * Reads a diffusers ONNX model folder and loads its graphs on the configured device. On the CPU it first says how much
 * memory the folder needs and refuses (`model.notEnoughMemory`) when the machine has less.
 */
export async function loadEngine(modelDir: string, options: RuntimeOptions = defaultRuntimeOptions): Promise<Engine> {
  const started = performance.now();
  const folder = readModelFolder(modelDir);
  const sessions = new SessionFactory(options);
  const pipeline = await StableDiffusionPipeline.load(
    folder,
    memoryCheckedLoader(folder, sessions, options.log ? { log: options.log } : {}),
  );
  const reason = sessions.fallbackReason;
  return { pipeline, device: sessions.device, ...(reason ? { deviceFallbackReason: reason } : {}), loadMs: performance.now() - started };
}
