/**
 * Seeds as torch's `Generator.manual_seed` accepts them: integers from 0 to 2^64 - 1.
 */
import { randomInt } from 'node:crypto';
import { UserError } from '../errors.js';
import { shorten } from '../text.js';

/** The largest seed, 2^64 - 1. */
export const MAX_SEED: bigint = (1n << 64n) - 1n;

/** The largest seed {@link randomSeed} returns, 2^32 - 1. */
export const MAX_RANDOM_SEED = 0xffffffff;

const DECIMAL = /^[0-9]+$/;

function invalidSeed(shown: string): UserError {
  return new UserError('options.seed', `The seed must be a whole number from 0 to ${MAX_SEED}; got ${shown}.`);
}

/**
 * Checks a seed and returns it as a bigint. Accepts safe integers >= 0 and bigints in [0, 2^64 - 1];
 * anything else (negative, fractional, NaN, unsafe numbers above 2^53 - 1) throws a `UserError`
 * with identifier `options.seed`.
 */
export function normalizeSeed(seed: number | bigint): bigint {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed > MAX_SEED) throw invalidSeed(seed.toString());
    return seed;
  }
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalidSeed(String(seed));
  return BigInt(seed);
}

/**
 * Parses a seed typed by a person: decimal digits only (surrounding whitespace is ignored),
 * 0 to 2^64 - 1. Throws a `UserError` (`options.seed`) otherwise.
 */
export function parseSeed(text: string): bigint {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) {
    throw invalidSeed(JSON.stringify(shorten(trimmed, 40)));
  }
  // Digits only, so BigInt cannot throw; strip the zeros to keep huge inputs cheap to reject.
  const digits = trimmed.replace(/^0+(?=[0-9])/, '');
  if (digits.length > 20) throw invalidSeed(shorten(digits, 24));
  const value = BigInt(digits);
  if (value > MAX_SEED) throw invalidSeed(digits);
  return value;
}

/** A fresh unpredictable seed for runs without one, from node:crypto, in [0, 2^32 - 1]. */
export function randomSeed(): number {
  return randomInt(0, MAX_RANDOM_SEED + 1);
}
