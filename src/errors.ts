import { randomBytes } from 'node:crypto';

/**
 * The areas failures are grouped by; an identifier is `<area>.<name>`, e.g. `image.tooLarge`. Logs,
 * metrics (`latentcord_jobs_total{error}`) and tests read identifiers, so they stay stable once released.
 */
export type ErrorArea =
  | 'access'
  | 'attachment'
  | 'cli'
  | 'config'
  | 'delivery'
  | 'history'
  | 'http'
  | 'hub'
  | 'image'
  | 'job'
  | 'model'
  | 'options'
  | 'prompt'
  | 'queue'
  | 'remix'
  | 'result'
  | 'runtime'
  | 'scheduler'
  | 'settings'
  | 'store'
  | 'tokenizer'
  | 'upscale'
  | 'worker';

/** A {@link UserError}'s identifier: its area and a camelCase name. */
export type ErrorIdentifier = `${ErrorArea}.${string}`;

/**
 * An expected failure caused by what a user (or an operator) asked for: a bad option, a broken picture,
 * a missing model file. Its message is written for the person who caused it and is shown to them as is.
 * Anything that is not a UserError is a bug: it is logged with a reference id and the user only sees
 * that something went wrong.
 */
export class UserError extends Error {
  /** Stable machine-readable kind, e.g. `image.tooLarge` or `options.steps`; used in logs and tests. */
  readonly identifier: ErrorIdentifier;

  constructor(identifier: ErrorIdentifier, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
    this.identifier = identifier;
  }
}

/** True for a {@link UserError}, also one that crossed a process boundary as plain data. */
export function isUserError(error: unknown): error is UserError {
  return (
    error instanceof UserError ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { name?: unknown }).name === 'UserError' &&
      typeof (error as { identifier?: unknown }).identifier === 'string')
  );
}

// Failures raised in more than one place, written once.

/** `job.cancelled`: someone cancelled the job (`before it started` or while it ran). */
export function cancelled(when: 'waiting' | 'running' = 'running'): UserError {
  return new UserError('job.cancelled', when === 'waiting' ? 'Cancelled before it started.' : 'The generation was cancelled.');
}

/** `queue.closed`: the bot is shutting down; a new request is refused, a waiting job is dropped. */
export function queueClosed(what: 'refused' | 'dropped' = 'refused'): UserError {
  return new UserError(
    'queue.closed',
    what === 'refused'
      ? 'The bot is restarting and not taking new jobs right now. Try again in a minute.'
      : 'The bot is restarting; this job was not started. Please ask again in a minute.',
  );
}

/** `queue.full`: as many jobs wait as the queue holds (`queue.maxLength`). */
export function queueFull(maxLength: number): UserError {
  return new UserError(
    'queue.full',
    `The queue is full (${maxLength} job${maxLength === 1 ? '' : 's'} waiting). Try again in a few minutes.`,
  );
}

/**
 * `store.full`: the disk holding the bot's database is full, so a job cannot be recorded. The requester is told;
 * the owner learns it from the log (the store's caller logs it at error level).
 */
export function diskFull(cause?: unknown): UserError {
  return new UserError(
    'store.full',
    "The bot's disk is full, so it cannot take new jobs right now. Please try again later; the owner has been told.",
    { cause },
  );
}

/** `model.noVaeEncoder`: the loaded model cannot encode pictures, so there are no remixes. */
export function noVaeEncoder(): UserError {
  return new UserError('model.noVaeEncoder', 'The model this bot runs has no VAE encoder, so remixing pictures is not available.');
}

/** `config.noToken`: a command that talks to Discord was started without a bot token. */
export function noToken(): UserError {
  return new UserError('config.noToken', 'No bot token: set DISCORD_TOKEN (or `discord.token` in the config file).');
}

/** `remix.noImage`: there is no picture to remix; `why` says where none was found. */
export function noImageToRemix(why: string): UserError {
  return new UserError('remix.noImage', why);
}

/** A short reference id shown to users for unexpected errors and logged with the cause. */
export function newReferenceId(): string {
  return randomBytes(4).toString('hex').toUpperCase();
}

/** Where {@link describeFailure} logs a bug: a pino logger, or anything shaped like its `error`. */
export interface BugLog {
  error(details: Record<string, unknown>, message: string): void;
}

/** What a failure means for the person who asked, as {@link describeFailure} decided. */
export interface Failure {
  /** The {@link UserError}'s identifier; for a bug, the caller's `bugIdentifier` (default `internal`). */
  readonly identifier: string;
  /** The text to show the person who asked (without a leading ❌). */
  readonly message: string;
  /** True when it was not a {@link UserError}: logged once, with {@link ref}. */
  readonly isBug: boolean;
  /** The reference id logged with a bug, also in {@link message}. */
  readonly ref?: string;
  /** The failure as thrown. */
  readonly error: unknown;
}

/** How {@link describeFailure} logs a bug. */
export interface DescribeOptions {
  /** The log line's message, e.g. `interaction failed` or `job failed`. */
  readonly logMessage: string;
  /** Identifiers of what was going on (interaction, message, user); the logger's own bindings add more. */
  readonly details?: Record<string, unknown>;
  /** Identifier recorded for a bug (default `internal`; `delivery` when an upload failed). */
  readonly bugIdentifier?: string;
}

/**
 * The one decision between "the user's mistake" and "a bug", for interactions, mentions and jobs alike. A
 * {@link UserError} is described by its own message and not logged here (its caller logs the refusal as it
 * sees fit); anything else is a bug, logged once at error level with a new reference id, and the person who
 * asked sees only that id.
 */
export function describeFailure(error: unknown, log: BugLog, options: DescribeOptions): Failure {
  if (isUserError(error)) return { identifier: error.identifier, message: error.message, isBug: false, error };
  const ref = newReferenceId();
  log.error({ ref, err: error, ...options.details }, options.logMessage);
  return {
    identifier: options.bugIdentifier ?? 'internal',
    message: `Something went wrong on my side (ref \`${ref}\`). The owner can look it up in the logs.`,
    isBug: true,
    ref,
    error,
  };
}
