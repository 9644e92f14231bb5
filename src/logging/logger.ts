import { randomBytes } from 'node:crypto';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Options of the root logger. */
export interface LoggerOptions {
  readonly level: string;
  /** Secrets that must never appear in a log line, whatever key or message they end up in. */
  readonly secrets?: readonly (string | null | undefined)[];
  /** Where lines go; default stdout. */
  readonly destination?: DestinationStream;
}

/**
 * The root pino logger: JSON lines, the bot token and other secrets redacted both under the usual keys and
 * anywhere inside messages or error texts (a token can leak through an HTTP error message). User text always
 * goes under its own key (`{ prompt }`), never as the message.
 */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 8);
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'config.discord.token'], censor: '[redacted]' },
      hooks: {
        logMethod(args, method) {
          if (secrets.length > 0) {
            for (let i = 0; i < args.length; i++) {
              const arg = args[i];
              if (typeof arg === 'string') args[i] = scrub(arg);
              else if (arg instanceof Error) args[i] = { err: { type: arg.name, message: scrub(arg.message), stack: scrub(arg.stack ?? '') } };
              else if (arg && typeof arg === 'object') args[i] = JSON.parse(scrub(JSON.stringify(arg, errorReplacer)));
            }
          }
          method.apply(this, args as Parameters<typeof method>);
        },
      },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack, ...(isCoded(value) ? { code: value.code } : {}) };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function isCoded(value: Error): value is Error & { code: unknown } {
  return 'code' in value;
}

/** A short reference id shown to users for unexpected errors and logged with the cause. */
export function newReferenceId(): string {
  return randomBytes(4).toString('hex').toUpperCase();
}
