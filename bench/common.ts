import type { RuntimeOptions } from '../src/runtime/session-factory.js';
import type { EngineOptions } from '../src/worker/load-engine.js';

/** What every benchmark section is run with (from the command line). */
export interface BenchOptions {
  /** Measured repetitions per figure (after warm-up runs). */
  readonly runs: number;
  /** Denoising steps of the generation and throughput sections. */
  readonly steps: number;
  /** Square image sizes of the generation section. */
  readonly sizes: readonly number[];
  /** Model folder of the in-process sections (the soak always runs the bot on the tiny model). */
  readonly model: string;
  /** onnxruntime settings of the pipeline process. */
  readonly runtime: Omit<RuntimeOptions, 'log'>;
  /** Decoders and UNet batching of the pipeline process (`--decoder`, `--tiny-decoder`). */
  readonly engine: EngineOptions;
  /** Jobs the soak sends through the bot. */
  readonly soakJobs: number;
}
