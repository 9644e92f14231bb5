import { UserError, isUserError, type ErrorIdentifier } from '../errors.js';
import type { SerializedError } from './protocol.js';

/** Turns any thrown value into plain data that survives `postMessage`. */
export function serializeError(error: unknown): SerializedError {
  if (isUserError(error)) return { name: 'UserError', identifier: error.identifier, message: error.message };
  if (error instanceof Error) return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an error sent by {@link serializeError}; UserErrors come back as UserErrors. */
export function deserializeError(data: SerializedError): Error {
  if (data.name === 'UserError' && data.identifier) return new UserError(data.identifier as ErrorIdentifier, data.message);
  const error = new Error(data.message);
  error.name = data.name;
  if (data.stack) error.stack = data.stack;
  return error;
}
