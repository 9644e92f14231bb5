import type { ApiErrorBody } from './api-types.js';

/**
 * An error answer of the fake REST API: HTTP status plus Discord's JSON error body. Route handlers throw it;
 * the router turns it into the response, so the client sees exactly what Discord would send.
 */
export class DiscordHttpError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;
  readonly headers: Record<string, string>;

  constructor(status: number, body: ApiErrorBody, headers: Record<string, string> = {}) {
    super(`${status} ${body.code}: ${body.message}`);
    this.name = 'DiscordHttpError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }

  /** Discord's JSON error code (0 for plain HTTP errors such as an unknown route). */
  get code(): number {
    return this.body.code;
  }
}

/** One field error inside an "Invalid Form Body" answer. */
export interface FormFieldError {
  /** Dotted path of the offending field, array indices as numbers: `embeds.0.title` ('' for the body itself). */
  path: string;
  /** Discord's machine code, e.g. `BASE_TYPE_MAX_LENGTH`. */
  code: string;
  message: string;
}

/** Builds the nested `errors` object of a 50035 answer (`{ a: { 0: { b: { _errors: [...] } } } }`). */
export function nestFormErrors(fieldErrors: readonly FormFieldError[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const error of fieldErrors) {
    let node = root;
    for (const part of error.path === '' ? [] : error.path.split('.')) {
      const next = (node[part] ??= {}) as Record<string, unknown>;
      node = next;
    }
    const list = (node._errors ??= []) as Array<{ code: string; message: string }>;
    list.push({ code: error.code, message: error.message });
  }
  return root;
}

/** The errors the fake answers with, spelled as Discord spells them. */
export const DiscordErrors = {
  notFound: () => new DiscordHttpError(404, { message: '404: Not Found', code: 0 }),
  methodNotAllowed: () => new DiscordHttpError(405, { message: '405: Method Not Allowed', code: 0 }),
  unauthorized: () => new DiscordHttpError(401, { message: '401: Unauthorized', code: 0 }),
  invalidApiVersion: () => new DiscordHttpError(400, { message: 'Invalid API version', code: 50041 }),
  invalidJson: () => new DiscordHttpError(400, { message: 'The request body contains invalid JSON.', code: 50109 }),
  unknownChannel: () => new DiscordHttpError(404, { message: 'Unknown Channel', code: 10003 }),
  unknownGuild: () => new DiscordHttpError(404, { message: 'Unknown Guild', code: 10004 }),
  unknownMember: () => new DiscordHttpError(404, { message: 'Unknown Member', code: 10007 }),
  unknownMessage: () => new DiscordHttpError(404, { message: 'Unknown Message', code: 10008 }),
  unknownUser: () => new DiscordHttpError(404, { message: 'Unknown User', code: 10013 }),
  unknownWebhook: () => new DiscordHttpError(404, { message: 'Unknown Webhook', code: 10015 }),
  unknownRole: () => new DiscordHttpError(404, { message: 'Unknown Role', code: 10011 }),
  unknownApplication: () => new DiscordHttpError(404, { message: 'Unknown Application', code: 10002 }),
  unknownInteraction: () => new DiscordHttpError(404, { message: 'Unknown interaction', code: 10062 }),
  unknownCommand: () => new DiscordHttpError(404, { message: 'Unknown application command', code: 10063 }),
  alreadyAcknowledged: () => new DiscordHttpError(400, { message: 'Interaction has already been acknowledged.', code: 40060 }),
  invalidWebhookToken: () => new DiscordHttpError(401, { message: 'Invalid Webhook Token', code: 50027 }),
  entityTooLarge: () => new DiscordHttpError(413, { message: 'Request entity too large', code: 40005 }),
  missingAccess: () => new DiscordHttpError(403, { message: 'Missing Access', code: 50001 }),
  missingPermissions: () => new DiscordHttpError(403, { message: 'Missing Permissions', code: 50013 }),
  cannotEditOthersMessage: () => new DiscordHttpError(403, { message: 'Cannot edit a message authored by another user', code: 50005 }),
  emptyMessage: () => new DiscordHttpError(400, { message: 'Cannot send an empty message', code: 50006 }),
  cannotMessageUser: () => new DiscordHttpError(403, { message: 'Cannot send messages to this user', code: 50007 }),
  maxCommands: () => new DiscordHttpError(400, { message: 'Maximum number of application commands reached (100)', code: 30032 }),
  dailyCommandCreates: (limit: number, retryAfterSeconds: number) =>
    new DiscordHttpError(
      429,
      {
        message: `Max number of daily application command creates has been reached (${limit})`,
        code: 30034,
        retry_after: retryAfterSeconds,
        global: false,
      },
      { 'Retry-After': String(Math.ceil(retryAfterSeconds)), 'X-RateLimit-Scope': 'shared' },
    ),
  invalidFormBody: (fieldErrors: readonly FormFieldError[]) =>
    new DiscordHttpError(400, { message: 'Invalid Form Body', code: 50035, errors: nestFormErrors(fieldErrors) }),
} as const;
