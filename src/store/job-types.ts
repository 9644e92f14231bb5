/** Life of a job: `queued` → `running` → one of the final states. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** Every {@link JobStatus}, in life order. */
export const jobStatuses: readonly JobStatus[] = Object.freeze(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']);

/** Statuses after which a job does not run any more. */
export const finalJobStatuses: readonly JobStatus[] = Object.freeze(['succeeded', 'failed', 'cancelled', 'interrupted']);

/** Text-to-image (`imagine`) or image-to-image (`remix`). */
export type JobKind = 'imagine' | 'remix';

/** The full generation parameters of a job: enough to run it again (Reroll) or show it (Info). */
export interface JobParameters {
  /** Prompt. */
  readonly prompt: string;
  /** Negative prompt as run (server prefix included). */
  readonly negativePrompt: string;
  /** Seed as canonical decimal text, 0 to 2^64 − 1 (too large for a JavaScript number or SQLite integer). */
  readonly seed: string;
  /** Denoising steps. */
  readonly steps: number;
  /** Guidance scale. */
  readonly guidance: number;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Scheduler name. */
  readonly scheduler: string;
  /** Number of images. */
  readonly count: number;
  /** img2img strength (stored for every job; used by remixes). */
  readonly strength: number;
  /** URL of the source picture of a remix; `null` for `imagine`. */
  readonly sourceImageUrl: string | null;
}

/** What {@link Store.createJob} needs. */
export interface NewJob extends JobParameters {
  /** Id to use; default a random UUID. At most 64 characters (it travels in Discord button ids). */
  readonly id?: string;
  /** Kind of job. */
  readonly kind: JobKind;
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
export interface JobRecord extends JobParameters {
  /** Unique id. */
  readonly id: string;
  /** Kind of job. */
  readonly kind: JobKind;
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
