import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.js';
import { emphasisModes, type EmphasisMode } from '../pipeline/prompt/index.js';

/** Parsed command line of one sub-command. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly values: Record<string, string | boolean | undefined>;
}

/** Parses a sub-command's arguments; unknown options are a UserError that names them and the usage. */
export function parseCommandArgs(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>, usage: string): ParsedArgs {
  try {
    const { positionals, values } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { positionals, values: values as ParsedArgs['values'] };
  } catch (error) {
    throw new UserError('cli.usage', `${(error as Error).message}\n\nUsage: ${usage}`);
  }
}

/** Reads an optional numeric option; `integer` options reject fractions. */
export function numberOption(values: ParsedArgs['values'], name: string, kind: 'integer' | 'number'): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || (kind === 'integer' && !Number.isInteger(value))) {
    throw new UserError(
      `options.${name}`,
      `Expected \`--${name}\` to be ${kind === 'integer' ? 'an integer' : 'a number'}, got \`${String(raw)}\`.`,
    );
  }
  return value;
}

/** Reads an optional string option. */
export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** Reads an optional `--emphasis` option (`original`, `no-norm` or `off`). */
export function emphasisOption(values: ParsedArgs['values']): EmphasisMode | undefined {
  const raw = stringOption(values, 'emphasis');
  if (raw === undefined) return undefined;
  if (!(emphasisModes as readonly string[]).includes(raw)) {
    throw new UserError('options.emphasis', `Expected \`--emphasis\` to be one of ${emphasisModes.join(', ')}, got \`${raw}\`.`);
  }
  return raw as EmphasisMode;
}
