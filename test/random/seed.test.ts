import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import {
  createGenerator,
  isRngKind,
  MAX_RANDOM_SEED,
  MAX_SEED,
  normalizeSeed,
  parseSeed,
  PhiloxGenerator,
  randomSeed,
  rngKinds,
  TorchCpuGenerator,
} from '../../src/random/index.js';

const isSeedError = (error: unknown): boolean => isUserError(error) && error.identifier === 'options.seed';

describe('parseSeed', () => {
  it('parses decimal seeds across the whole range', () => {
    assert.equal(parseSeed('0'), 0n);
    assert.equal(parseSeed('42'), 42n);
    assert.equal(parseSeed('4294967295'), 4294967295n);
    assert.equal(parseSeed('9007199254740993'), 9007199254740993n); // above 2^53: no precision loss
    assert.equal(parseSeed('18446744073709551615'), 2n ** 64n - 1n);
    assert.equal(MAX_SEED, 2n ** 64n - 1n);
  });

  it('ignores surrounding whitespace and leading zeros', () => {
    assert.equal(parseSeed('  1234\n'), 1234n);
    assert.equal(parseSeed('000'), 0n);
    assert.equal(parseSeed('00018446744073709551615'), 2n ** 64n - 1n);
  });

  it('rejects everything else with a UserError', () => {
    const bad = [
      '',
      '   ',
      '-1',
      '+5',
      '1.0',
      '1e3',
      '0x10',
      '12 34',
      '1_000',
      '١٢',
      'seed',
      '18446744073709551616',
      '99999999999999999999999999',
    ];
    for (const text of bad) {
      assert.throws(() => parseSeed(text), isSeedError, JSON.stringify(text));
    }
  });

  it('explains the allowed range in the message', () => {
    assert.throws(
      () => parseSeed('-3'),
      (error: unknown) => isSeedError(error) && (error as Error).message.includes('18446744073709551615'),
    );
  });
});

describe('normalizeSeed', () => {
  it('accepts safe integers and bigints in range', () => {
    assert.equal(normalizeSeed(0), 0n);
    assert.equal(normalizeSeed(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER));
    assert.equal(normalizeSeed(2n ** 64n - 1n), 2n ** 64n - 1n);
  });

  it('rejects the rest', () => {
    for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -1n, 2n ** 64n]) {
      assert.throws(() => normalizeSeed(bad), isSeedError, String(bad));
    }
  });
});

describe('randomSeed', () => {
  it('returns integers in 0..2^32-1 that are not all the same', () => {
    const seeds = Array.from({ length: 64 }, () => randomSeed());
    for (const seed of seeds) {
      assert.ok(Number.isInteger(seed) && seed >= 0 && seed <= MAX_RANDOM_SEED, String(seed));
    }
    assert.equal(MAX_RANDOM_SEED, 2 ** 32 - 1);
    assert.ok(new Set(seeds).size > 1);
  });
});

describe('createGenerator', () => {
  it('builds the requested kind', () => {
    assert.ok(createGenerator('cpu', 1) instanceof TorchCpuGenerator);
    assert.ok(createGenerator('philox', 1n) instanceof PhiloxGenerator);
    assert.deepEqual(createGenerator('cpu', 9).randn([20]), new TorchCpuGenerator(9).randn([20]));
    assert.deepEqual(createGenerator('philox', 9).randn([20]), new PhiloxGenerator(9).randn([20]));
  });

  it('accepts a parsed seed at both ends of the range and rejects out-of-range seeds', () => {
    for (const kind of rngKinds) {
      assert.equal(createGenerator(kind, parseSeed('0')).randn([4]).length, 4);
      assert.equal(createGenerator(kind, parseSeed('18446744073709551615')).randn([4]).length, 4);
      assert.throws(() => createGenerator(kind, 2n ** 64n), isSeedError);
    }
  });

  it('recognises the kind names', () => {
    assert.deepEqual([...rngKinds], ['cpu', 'philox']);
    assert.ok(isRngKind('cpu') && isRngKind('philox'));
    assert.ok(!isRngKind('cuda') && !isRngKind('CPU'));
  });
});
