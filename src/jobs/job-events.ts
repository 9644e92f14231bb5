import type { GenerationTimings } from '../pipeline/stable-diffusion.js';
import type { JobRecord } from '../store/index.js';

/**
 * Where a job's time went, in ms: waiting in the queue, then the batch's text encoding, denoising and VAE
 * decoding (shared by the jobs of one UNet batch), then its own PNG encoding and upload. Stages a job did
 * not reach are absent.
 */
export interface JobStages {
  queueWait?: number;
  encode?: number;
  denoise?: number;
  decode?: number;
  png?: number;
  upload?: number;
}

/** How a job ended, as its stored status. */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled';

/** `jobFinished`: a job reached a final state (also one refused by the queue, or cancelled while waiting). */
export interface JobFinishedEvent {
  readonly record: JobRecord;
  readonly outcome: JobOutcome;
  /** {@link UserError} identifier (or `internal`, `delivery`) of a failure or cancellation; `null` on success. */
  readonly errorIdentifier: string | null;
  readonly stages: Readonly<JobStages>;
}

/** `batchStart`: jobs went to the pipeline together. */
export interface BatchStartEvent {
  readonly jobs: readonly JobRecord[];
  /** Images the batch makes. */
  readonly images: number;
}

/** `batchEnd`: the pipeline finished (or failed) a batch; delivery may still be going on. */
export interface BatchEndEvent {
  readonly jobs: readonly JobRecord[];
  readonly images: number;
  /** The pipeline's timings when it produced images. */
  readonly timings: GenerationTimings | null;
  /** Identifier of the failure when it produced none. */
  readonly errorIdentifier: string | null;
}

/** Events of the job runner, for metrics and other observers that watch every job. */
export interface JobRunnerEvents {
  batchStart: [event: BatchStartEvent];
  batchEnd: [event: BatchEndEvent];
  jobFinished: [event: JobFinishedEvent];
}
