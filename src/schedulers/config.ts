import { UserError } from '../errors.js';
import type { SchedulerConfig } from './scheduler.js';
import { shorten } from '../text.js';

/** The keyword defaults of one diffusers scheduler class's `__init__`, snake_case. */
export type SchedulerDefaults = Readonly<Record<string, unknown>>;

/**
 * `Class.from_config(config)` semantics: every key the class's `__init__` takes is read from `config` when
 * present and from `defaults` otherwise; keys the class does not know are carried along unread (diffusers
 * keeps them in `scheduler.config` too), and `_class_name` names the class that was built.
 */
export function resolveSchedulerConfig(className: string, defaults: SchedulerDefaults, config: SchedulerConfig): SchedulerConfig {
  const resolved: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(defaults)) {
    if (!(key in resolved)) resolved[key] = value;
  }
  resolved['_class_name'] = className;
  return Object.freeze(resolved);
}

const nonFiniteSpellings: Readonly<Record<string, number>> = {
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
  '+infinity': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
  '-infinity': Number.NEGATIVE_INFINITY,
  nan: Number.NaN,
};

/**
 * Typed, validated access to a resolved scheduler configuration. Every failure is a {@link UserError}
 * (`scheduler.config`) naming the class, the key and the offending value, because a bad value comes from a
 * model folder or an operator, not from a bug.
 */
export class SchedulerConfigReader {
  /** Name of the scheduler class whose configuration is read. */
  readonly className: string;
  /** The resolved configuration (defaults applied). */
  readonly config: SchedulerConfig;

  constructor(className: string, config: SchedulerConfig) {
    this.className = className;
    this.config = config;
  }

  /** Throws the standard configuration error for `key`. */
  fail(key: string, expected: string, value: unknown = this.config[key]): never {
    throw new UserError('scheduler.config', `${this.className}: expected \`${key}\` to be ${expected}, got \`${describe(value)}\``);
  }

  /** A number; JSON strings such as `"-inf"` stand for the non-finite values JSON cannot spell. */
  number(key: string): number {
    const parsed = parseConfigNumber(this.config[key]);
    if (parsed === undefined) return this.fail(key, 'a number');
    return parsed;
  }

  /** A number, or `undefined` when the value is `null` or absent (Python `Optional[float]`). */
  optionalNumber(key: string): number | undefined {
    const value = this.config[key];
    if (value === null || value === undefined) return undefined;
    return this.number(key);
  }

  /** An integer within `[min, max]`. */
  integer(key: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.number(key);
    if (!Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
      return this.fail(key, range);
    }
    return value;
  }

  /** A boolean; `null` reads as `false` like Python's truthiness of `Optional[bool] = None`. */
  boolean(key: string): boolean {
    const value = this.config[key];
    if (value === null || value === undefined) return false;
    if (typeof value !== 'boolean') return this.fail(key, 'true or false');
    return value;
  }

  /** A string, optionally restricted to `allowed` values. */
  string<T extends string>(key: string, allowed?: readonly T[]): T {
    const value = this.config[key];
    if (typeof value !== 'string') return allowed ? this.fail(key, oneOf(allowed)) : this.fail(key, 'a string');
    if (allowed && !allowed.includes(value as T)) return this.fail(key, oneOf(allowed));
    return value as T;
  }

  /** A string, or `undefined` when `null` or absent. */
  optionalString<T extends string>(key: string, allowed?: readonly T[]): T | undefined {
    const value = this.config[key];
    if (value === null || value === undefined) return undefined;
    return this.string(key, allowed);
  }

  /** A list of numbers, or `undefined` when `null` or absent (`trained_betas`). */
  optionalNumberList(key: string): number[] | undefined {
    const value = this.config[key];
    if (value === null || value === undefined) return undefined;
    if (!Array.isArray(value)) return this.fail(key, 'a list of numbers');
    return value.map((item) => {
      const parsed = parseConfigNumber(item);
      if (parsed === undefined) return this.fail(key, 'a list of numbers');
      return parsed;
    });
  }

  /** A list of integers (`disable_corrector`); `null` reads as the empty list. */
  integerList(key: string): number[] {
    const value = this.config[key];
    if (value === null || value === undefined) return [];
    if (!Array.isArray(value) || !value.every((item) => Number.isInteger(item))) return this.fail(key, 'a list of integers');
    return value as number[];
  }
}

/** Parses a configuration number: a JSON number or one of the non-finite spellings (`"-inf"`, `"inf"`, `"nan"`). */
export function parseConfigNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const special = nonFiniteSpellings[value.trim().toLowerCase()];
    if (special !== undefined) return special;
  }
  return undefined;
}

function oneOf(allowed: readonly string[]): string {
  return 'one of ' + allowed.map((value) => `"${value}"`).join(', ');
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return shorten(text, 60);
}
