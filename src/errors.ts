/**
 * An expected failure caused by what a user (or an operator) asked for: a bad option, a broken picture,
 * a missing model file. Its message is written for the person who caused it and is shown to them as is.
 * Anything that is not a UserError is a bug: it is logged with a reference id and the user only sees
 * that something went wrong.
 */
export class UserError extends Error {
  /** Stable machine-readable kind, e.g. `image.tooLarge` or `options.steps`; used in logs and tests. */
  readonly identifier: string;

  constructor(identifier: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
    this.identifier = identifier;
  }
}

/** True for a {@link UserError}, also one that crossed a worker boundary as plain data. */
export function isUserError(error: unknown): error is UserError {
  return (
    error instanceof UserError ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { name?: unknown }).name === 'UserError' &&
      typeof (error as { identifier?: unknown }).identifier === 'string')
  );
}
