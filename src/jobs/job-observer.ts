import type { Failure } from '../errors.js';
import type { PromptReport, StepProgress } from '../pipeline/stable-diffusion.js';
import type { JobRecord } from '../store/index.js';

/** A finished job's output, handed to its observer for delivery. */
export interface FinishedJob {
  readonly record: JobRecord;
  readonly pngs: readonly Buffer[];
  readonly prompt: PromptReport;
  readonly negativePrompt: PromptReport;
  /**
   * The safety checker's verdict per picture (true: NSFW concepts), when the model has a checker; absent when
   * nothing was checked. The observer decides, before uploading, what happens to flagged pictures.
   */
  readonly flagged?: readonly boolean[];
}

/** A live preview of a running job: one small RGB picture per image, drawn after `step` of `totalSteps`. */
export interface LivePreview {
  readonly step: number;
  readonly totalSteps: number;
  readonly images: readonly { readonly width: number; readonly height: number; readonly rgb: Uint8Array }[];
}

/** Where a job's result ended up. */
export interface Delivery {
  readonly messageId: string;
  readonly channelId: string;
  readonly attachmentUrls: readonly string[];
}

/**
 * How a job talks back to whoever asked for it (an interaction, a message, a test). Observers throttle
 * their own updates; the runner calls them as things happen.
 */
export interface JobObserver {
  /**
   * The job's place in the queue changed (1-based; 0 means it is about to run), with the expected wait in ms
   * once the pipeline's pace is known.
   */
  queued(position: number, record: JobRecord, expectedWaitMs?: number): void;
  /** The job's batch started on the pipeline. */
  started(record: JobRecord): void;
  /** A denoising step finished. */
  progress(progress: StepProgress, record: JobRecord): void;
  /** A live preview of the running job (when its server shows them); observers that show none leave it out. */
  preview?(preview: LivePreview, record: JobRecord): void;
  /** Delivers the images; resolves with where they went. */
  deliver(job: FinishedJob): Promise<Delivery>;
  /**
   * The job failed or was cancelled (`job.cancelled`); tells the requester. A bug was already logged with
   * the reference id its message shows.
   */
  failed(failure: Failure, record: JobRecord): Promise<void>;
}
