import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byteSize } from '../src/byte-size.js';

describe('byteSize', () => {
  for (const [bytes, text, why] of [
    [0, '0 B', 'nothing'],
    [1023, '1023 B', 'under 1 KiB: whole bytes'],
    [1024, '1.00 KiB', 'exactly 1 KiB'],
    [1536, '1.50 KiB', 'three significant digits'],
    [45_056, '44.0 KiB', 'tens of a unit: one decimal'],
    [65_536, '64.0 KiB', 'a limit reads the same in every message'],
    [3_637_612, '3.47 MiB', 'MiB'],
    [25 * 2 ** 20, '25.0 MiB', "Discord's attachment limit"],
    [3_438_167_540, '3.21 GiB', '3.2020… GiB is rounded up'],
    [909 * 2 ** 40, '909 TiB', 'hundreds of a unit: no decimals'],
    [2 ** 40, '1.00 TiB', 'TiB'],
    [4097, '4.01 KiB', 'one byte over 4 KiB never reads as 4.00 KiB'],
    [2 ** 20 + 1, '1.01 MiB', 'one byte over 1 MiB never reads as 1.00 MiB'],
    [10 * 1024 - 1, '10.0 KiB', '9.999 KiB rounds up into the next digit count'],
    [1023 * 1024 + 1, '1.00 MiB', 'rounding up to 1024 KiB reads as the next unit'],
    [1000 * 1024, '1000 KiB', '1000–1023 of a unit keep four digits'],
    [0.5, '1 B', 'a fraction of a byte (a rate) counts as a byte'],
  ] as const) {
    it(`${why}: ${bytes} → ${text}`, () => assert.equal(byteSize(bytes), text));
  }

  it('never reads smaller than the size it stands for', () => {
    const unitOf = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 } as const;
    for (let bytes = 1; bytes < 2 ** 45; bytes = Math.floor(bytes * 1.37) + 1) {
      const [number, unit] = byteSize(bytes).split(' ') as [string, keyof typeof unitOf];
      assert.ok(Number(number) * unitOf[unit] >= bytes, `${bytes} → ${byteSize(bytes)}`);
      assert.ok(Number(number) * unitOf[unit] < bytes * 1.011 + 1, `${bytes} → ${byteSize(bytes)} is too far off`);
    }
  });

  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`refuses ${bad}`, () => assert.throws(() => byteSize(bad), RangeError));
  }
});
