import { UserError, isUserError, type ErrorIdentifier } from '../errors.js';
import type { BatchParameters, EmphasisMode, GenerationJob, GenerationTimings, PromptReport } from '../pipeline/stable-diffusion.js';
import { isSchedulerName } from '../schedulers/index.js';

/** Version of the job and result formats; a worker refuses jobs of another version. */
export const wireVersion = 1;

/** One job of a batch as it travels through Redis: seeds as text, source pictures in their own keys. */
export interface RemoteJob {
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly emphasis?: EmphasisMode;
  readonly maxPromptTokens?: number;
  readonly guidanceScale: number;
  /** Decimal text: a 64-bit seed does not survive JSON as a number. */
  readonly seed: string;
  readonly numImages: number;
  readonly initImage?: { readonly key: string; readonly width: number; readonly height: number; readonly bytes: number };
}

/** The data of a BullMQ job: one batch of the bot's jobs. */
export interface RemoteBatch {
  readonly v: number;
  /** The model identity (`name@hash`) the batch was made for. */
  readonly model: string;
  /** The bot's job ids, in the order of {@link jobs}. */
  readonly jobIds: readonly string[];
  readonly jobs: readonly RemoteJob[];
  readonly parameters: BatchParameters;
  readonly submittedAt: number;
}

/** A finished batch, as the BullMQ job's return value: small; the PNGs are in their own keys. */
export interface RemoteBatchResult {
  readonly v: number;
  readonly worker: string;
  readonly jobs: readonly {
    readonly pngs: readonly { readonly key: string; readonly bytes: number }[];
    readonly prompt: PromptReport;
    readonly negativePrompt: PromptReport;
  }[];
  readonly timings: GenerationTimings;
  /** PNG encoding of all the batch's pictures, on the worker. */
  readonly pngMs: number;
  /** The safety checker's verdicts (`flagged[j][i]`), when the worker's model folder has a checker. */
  readonly flagged?: readonly (readonly boolean[])[];
}

/** What a worker reports at each progress update (BullMQ job progress). */
export interface RemoteProgress {
  readonly step: number;
  readonly totalSteps: number;
  readonly elapsedMs: number;
  readonly worker: string;
}

/** The pipeline's call for a batch that came through Redis (source pictures passed in separately). */
export function toGenerationJob(job: RemoteJob, initImage?: GenerationJob['initImage']): GenerationJob {
  return {
    prompt: job.prompt,
    ...(job.negativePrompt !== undefined ? { negativePrompt: job.negativePrompt } : {}),
    ...(job.emphasis !== undefined ? { emphasis: job.emphasis } : {}),
    ...(job.maxPromptTokens !== undefined ? { maxPromptTokens: job.maxPromptTokens } : {}),
    guidanceScale: job.guidanceScale,
    seed: BigInt(job.seed),
    numImages: job.numImages,
    ...(initImage ? { initImage } : {}),
  };
}

/** Checks the shape of a job taken from Redis; throws a `queue.badJob` UserError naming what is wrong. */
export function parseRemoteBatch(data: unknown): RemoteBatch {
  const fail = (what: string): never => {
    throw new UserError('queue.badJob', `A job in Redis is not one this worker can run: ${what}.`);
  };
  if (typeof data !== 'object' || data === null) return fail('no data');
  const batch = data as Partial<RemoteBatch>;
  if (batch.v !== wireVersion)
    return fail(`format version ${String(batch.v)}, this worker reads ${wireVersion} (update the bot and the workers together)`);
  if (typeof batch.model !== 'string') return fail('no model');
  if (!Array.isArray(batch.jobs) || !Array.isArray(batch.jobIds) || batch.jobs.length === 0 || batch.jobs.length !== batch.jobIds.length)
    return fail('no jobs');
  const p = batch.parameters;
  if (
    typeof p !== 'object' ||
    p === null ||
    !isSchedulerName(p.scheduler) ||
    !(p.width > 0) ||
    !(p.height > 0) ||
    !(p.numInferenceSteps > 0)
  )
    return fail('bad parameters');
  for (const job of batch.jobs) {
    if (typeof job?.prompt !== 'string' || !/^\d{1,20}$/u.test(String(job.seed)) || !(job.numImages >= 1)) return fail('a bad job');
    if (job.emphasis !== undefined && !['original', 'no-norm', 'off'].includes(job.emphasis)) return fail('an unknown emphasis mode');
  }
  return batch as RemoteBatch;
}

/**
 * A failure as a BullMQ failed reason: `[identifier] message` for a {@link UserError} (shown to the
 * requester as is), `[internal] message` for anything else. Readable in any queue dashboard.
 */
export function failureReason(error: unknown): string {
  if (isUserError(error)) return `[${error.identifier}] ${error.message}`;
  return `[internal] ${error instanceof Error ? error.message : String(error)}`;
}

/** BullMQ's own reason for a job whose worker died twice (it stalled more than `maxStalledCount`). */
const stalledTooOften = /stalled more than allowable limit/u;

/**
 * The error a failed batch is reported with in the bot: the worker's UserError rebuilt, `worker.lost` when
 * BullMQ gave up after the job's workers died, and a plain Error (a bug, logged with a reference) otherwise.
 */
export function errorFromReason(reason: string | undefined, worker: string | undefined): Error {
  const text = reason ?? '';
  const match = /^\[([a-z]+\.[A-Za-z]+)\] ([\s\S]*)$/u.exec(text);
  if (match) return new UserError(match[1] as ErrorIdentifier, match[2]!);
  if (stalledTooOften.test(text)) return workerLost();
  const internal = /^\[internal\] ([\s\S]*)$/u.exec(text);
  return new Error(`worker ${worker ?? '(unknown)'} failed: ${internal ? internal[1] : text || 'no reason given'}`);
}

/** `worker.lost`: the job was interrupted where it ran and could not be finished elsewhere. */
export function workerLost(): UserError {
  return new UserError(
    'worker.lost',
    'The image worker drawing this picture stopped before it was done, and it could not be finished on another one. Please ask again.',
  );
}
