import type { GenerationOptions } from '../settings/index.js';

/** Life of a job: `queued` → `running` → one of the final states. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** Every {@link JobStatus}, in life order. */
export const jobStatuses: readonly JobStatus[] = Object.freeze(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']);

/** Statuses after which a job does not run any more. */
export const finalJobStatuses: readonly JobStatus[] = Object.freeze(['succeeded', 'failed', 'cancelled', 'interrupted']);

/** Text-to-image (`imagine`) or image-to-image (`remix`). */
export type JobKind = 'imagine' | 'remix';

/**
 * What a `remix` job was asked for by a result's button, when it was not an ordinary remix: Vary (Subtle),
 * Vary (Strong), or Upscale ×2 as an img2img pass at twice the size (`upscale-hires`).
 */
export type JobOperation = 'vary-subtle' | 'vary-strong' | 'upscale-hires';

/** Every {@link JobOperation}. */
export const jobOperations: readonly JobOperation[] = Object.freeze(['vary-subtle', 'vary-strong', 'upscale-hires']);

/**
 * The full generation parameters of a job: enough to run it again (Reroll) or show it (Info). The options
 * after server defaults and limits, with the size a remix's source picture decided and where that picture
 * came from.
 */
export interface JobParameters extends Omit<GenerationOptions, 'scheduler'> {
  /** Scheduler name (a stored job may name one this version does not know). */
  readonly scheduler: string;
  /** URL of the source picture of a remix; `null` for `imagine`. */
  readonly sourceImageUrl: string | null;
}

/** What a job asks of the pipeline: its kind and parameters. Every stored job is one. */
export interface JobSpec extends JobParameters {
  /** Kind of job. */
  readonly kind: JobKind;
  /** The button a `remix` came from (Vary, Upscale); absent or `null` for an ordinary job. */
  readonly operation?: JobOperation | null;
}

/** What {@link Store.createJob} needs. */
export interface NewJob extends JobSpec {
  /** Id to use; default a random UUID. At most 64 characters (it travels in Discord button ids). */
  readonly id?: string;
  /** The job this one rerolls or remixes, if any (must exist). */
  readonly parentJobId?: string | null;
  /** Server id; `null` in direct messages. */
  readonly guildId: string | null;
  /** Channel the request was made in. */
  readonly channelId: string;
  /** Who asked. */
  readonly userId: string;
  /** Initial status; default `queued`. */
  readonly status?: 'queued' | 'running';
  /** Creation time in ms since the epoch; default now. */
  readonly createdAt?: number;
}

/** A stored job. Times are ms since the epoch. */
export interface JobRecord extends JobSpec {
  /** Unique id. */
  readonly id: string;
  /** Current status. */
  readonly status: JobStatus;
  /** The job this one rerolls or remixes; `null` if none or since pruned. */
  readonly parentJobId: string | null;
  /** Server id; `null` in direct messages. */
  readonly guildId: string | null;
  /** Channel the request was made in. */
  readonly channelId: string;
  /** Who asked. */
  readonly userId: string;
  /** The button a `remix` came from (Vary, Upscale), or `null`. */
  readonly operation: JobOperation | null;
  /** When it was created (queued). */
  readonly createdAt: number;
  /** When it started running. */
  readonly startedAt: number | null;
  /** When it reached a final status. */
  readonly finishedAt: number | null;
  /** {@link UserError} identifier (or e.g. `internal`) of a failure. */
  readonly errorIdentifier: string | null;
  /** The message in the job's channel that shows its queue position and progress, once known. */
  readonly statusMessageId: string | null;
  /** The message showing the result (the buttons live on it). */
  readonly resultMessageId: string | null;
  /** Channel of {@link resultMessageId}. */
  readonly resultChannelId: string | null;
  /** URLs of the result images as Discord stored them. */
  readonly attachmentUrls: readonly string[];
  /** Milliseconds spent per stage, e.g. `{ textEncoder: 90, denoise: 5200, vaeDecode: 400 }`. */
  readonly stageDurations: Readonly<Record<string, number>>;
}

/**
 * The changeable part of a job. Omitted fields keep their value; `stageDurations` is merged into the
 * stored ones (so stages can be reported one by one).
 */
export interface JobPatch {
  /** New status. Becoming `running` sets `startedAt`, becoming final sets `finishedAt` (both to now) unless given. */
  readonly status?: JobStatus;
  /** Start time. */
  readonly startedAt?: number | null;
  /** End time. */
  readonly finishedAt?: number | null;
  /** Failure identifier. */
  readonly errorIdentifier?: string | null;
  /** Status message id (in the job's channel). */
  readonly statusMessageId?: string | null;
  /** Result message id. */
  readonly resultMessageId?: string | null;
  /** Result message channel id. */
  readonly resultChannelId?: string | null;
  /** Result image URLs (replace the stored list). */
  readonly attachmentUrls?: readonly string[];
  /** Stage durations to add or overwrite, in ms. */
  readonly stageDurations?: Readonly<Record<string, number>>;
}
