import pino, { type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Options of the root logger. */
export interface LoggerOptions {
  readonly level: string;
  /** Secrets that must never appear in a log line, whatever key or message they end up in. */
  readonly secrets?: readonly (string | null | undefined)[];
  /** Where lines go; default stdout. With `pretty`, the human-readable text goes there. */
  readonly destination?: DestinationStream | NodeJS.WritableStream;
  /**
   * Human-readable lines (`true`), JSON lines (`false`, the default), or human-readable only when the
   * process's stdout is a terminal (`auto`), as config `logging.pretty`.
   */
  readonly pretty?: 'auto' | boolean;
}

/**
 * The root pino logger: JSON lines (or pino-pretty text on a terminal), the bot token and other secrets
 * redacted both under the usual keys and anywhere inside the finished line, so also inside messages, error
 * texts, causes and child-logger bindings (a token can leak through an HTTP error message). User text always
 * goes under its own key (`{ prompt }`), never as the message.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = secretScrubber(options.secrets ?? []);
  const pretty = shouldPrettyPrint(options.pretty ?? false);
  // pino-pretty as a plain stream rather than a worker-thread transport: nothing to drain or join at exit.
  const destination = pretty
    ? pinoPretty({ destination: options.destination ?? 1, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : (options.destination ?? pino.destination({ sync: false }));
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'config.discord.token'],
        censor: '[redacted]',
      },
      ...(scrub ? { hooks: { streamWrite: scrub } } : {}),
      serializers: { err: pino.stdSerializers.err },
    },
    destination as DestinationStream,
  );
}

/**
 * Whether log lines should be human-readable: `auto` means "when `stream` (default the process's stdout)
 * is a terminal".
 */
export function shouldPrettyPrint(setting: 'auto' | boolean, stream: { readonly isTTY?: boolean } = process.stdout): boolean {
  return setting === 'auto' ? stream.isTTY === true : setting;
}

/**
 * A function that replaces every secret in a finished JSON line, both as written and as JSON escapes it;
 * `undefined` when there is nothing to hide. Secrets shorter than 8 characters are ignored (they would
 * mangle ordinary words).
 */
function secretScrubber(secrets: readonly (string | null | undefined)[]): ((line: string) => string) | undefined {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < 8) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  if (forms.size === 0) return undefined;
  const patterns = [...forms].sort((a, b) => b.length - a.length);
  return (line) => patterns.reduce((out, secret) => (out.includes(secret) ? out.split(secret).join('[redacted]') : out), line);
}
