import type { EventEmitter } from 'node:events';
import type { Pipeline } from '../jobs/job-runner.js';
import type { PipelineStatus } from '../metrics/status.js';
import type { ModelProfile } from '../model/model-profile.js';

/** What the bot needs to know about the model its pipelines run. */
export interface ModelSummary {
  /** Display name (the folder name, or `_name_or_path` of its index). */
  readonly name: string;
  /** Image sides must be multiples of this. */
  readonly sizeMultiple: number;
  /** Whether remixes work (the folder has a VAE encoder). */
  readonly supportsImageToImage: boolean;
  /** Few-step model detection and the settings such a model wants. */
  readonly profile: ModelProfile;
  /** Whether its pictures are checked by the model folder's safety checker (flagged ones follow the nsfw settings). */
  readonly safetyChecker: boolean;
  /** Which decoder draws the final pictures of a local pipeline (`tiny`: TAESD, recorded in the PNGs). */
  readonly finalDecoder?: 'vae' | 'tiny';
  /** Size of the UNet's guidance embedding when the model takes guidance that way (LCM): no negative prompt rows. */
  readonly timestepCondDim?: number;
}

/** One pipeline as `/queue` shows it to admins: a local process or a remote worker. */
export interface PipelineView {
  /** Worker name, or `device 1` for a local process. */
  readonly name: string;
  /** The model it serves (folder name and manifest hash for remote workers). */
  readonly model: string;
  /** `cpu`, `cuda:0`, … */
  readonly device: string;
  readonly busy: boolean;
  /** Jobs it finished since it started. */
  readonly jobsDone?: number;
}

/** Whether the pipeline side can run jobs now, for `/healthz` and `/metrics` (a single local process adds its stage). */
export type BackendStatus = PipelineStatus;

/**
 * Where batches run: the local pipeline process (the default), one per local device, or remote workers
 * behind a queue in Redis. The job runner calls it as a {@link Pipeline}; the rest of the bot reads the
 * model it serves, its status and its pipelines. Emits `restart` (reason) when a local pipeline process
 * was replaced.
 */
export interface PipelineBackend extends Omit<Pipeline, 'on'>, Pick<EventEmitter, 'on' | 'off'> {
  /** `local` or `redis`. */
  readonly kind: 'local' | 'redis';
  readonly model: ModelSummary;
  status(): BackendStatus;
  /** The pipelines behind it, for admins. */
  pipelines(): readonly PipelineView[];
  /**
   * Jobs of a previous process still with remote workers (bot job id → remote batch), to be taken up
   * rather than reported interrupted; absent for local pipelines, whose jobs die with the process.
   */
  inFlight?(): Promise<Map<string, string>>;
  /** Stops it; running jobs fail (local) or are left to their workers (remote). */
  close(): Promise<void>;
}
