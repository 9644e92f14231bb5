/**
 * Typed access to `test/fixtures/rng-cases.json` and exact comparisons against it, shared by the
 * random-number tests.
 */
import assert from 'node:assert/strict';
import { f32, loadJsonFixture } from '../helpers/fixtures.js';

/** One `randn` golden: full `data`, or for big shapes only summaries. */
export interface RandnCase {
  seed: number;
  shape: number[];
  numel: number;
  data?: number[];
  summary_only?: boolean;
  first64?: number[];
  last64?: number[];
  every_1024th?: number[];
  sum?: number;
  sum_sq?: number;
}

/** Several `randn` calls on one generator. */
export interface SequenceCase {
  seed: number;
  calls: { shape: number[]; numel: number; data: number[] }[];
}

/** diffusers `randn_tensor` goldens. */
export interface RandnTensorCase {
  call: string;
  seed?: number;
  seeds?: number[];
  shape: number[];
  data: number[];
}

/** The parts of rng-cases.json the random tests use. */
export interface RngCases {
  torch_cpu_randn: RandnCase[];
  torch_sequences: SequenceCase[];
  philox_per_rng_philox_py: RandnCase[];
  philox_sequences: SequenceCase[];
  diffusers_randn_tensor: RandnTensorCase[];
}

/** The parsed fixture file. */
export function rngCases(): RngCases {
  return loadJsonFixture<RngCases>('rng-cases.json');
}

/** Index of the first element that differs bit for bit (as float32), or -1. */
export function firstMismatch(actual: ArrayLike<number>, expected: Float32Array): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) return i;
  }
  return -1;
}

/** Asserts exact float32 equality with a golden list, reporting the first differing element. */
export function assertSameFloat32(actual: Float32Array, expected: readonly number[], label: string): void {
  const golden = f32(expected);
  assert.equal(actual.length, golden.length, `${label}: length`);
  const at = firstMismatch(actual, golden);
  assert.equal(at, -1, at < 0 ? label : `${label}: element ${at} is ${actual[at]}, golden ${golden[at]}`);
}

/**
 * numpy's float64 `sum` (how the fixture's `sum` / `sum_sq` were made): pairwise summation with
 * eight accumulators in blocks of up to 128 values (numpy `pairwise_sum`), added to the identity 0.
 * Reproducing the summation order makes the comparison exact, so one wrong value among the
 * 16,384 that have no stored golden still fails the test.
 */
export function numpySum(values: Float64Array): number {
  return 0 + pairwiseSum(values, 0, values.length);
}

function pairwiseSum(a: Float64Array, start: number, n: number): number {
  if (n < 8) {
    let sum = -0;
    for (let i = 0; i < n; i++) sum += a[start + i]!;
    return sum;
  }
  if (n <= 128) {
    const r = a.slice(start, start + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = r[j]! + a[start + i + j]!;
    }
    let sum = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) sum += a[start + i]!;
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(a, start, half) + pairwiseSum(a, start + half, n - half);
}

/** Checks a generator's output against one `randn` golden (full data, or the big-shape summaries). */
export function assertMatchesCase(actual: Float32Array, golden: RandnCase, label: string): void {
  assert.equal(actual.length, golden.numel, `${label}: numel`);
  if (!golden.summary_only) {
    assertSameFloat32(actual, golden.data!, label);
    return;
  }
  const n = actual.length;
  assertSameFloat32(actual.slice(0, 64), golden.first64!, `${label} first64`);
  assertSameFloat32(actual.slice(n - 64), golden.last64!, `${label} last64`);
  const strided = Float32Array.from({ length: Math.ceil(n / 1024) }, (_, k) => actual[k * 1024]!);
  assertSameFloat32(strided, golden.every_1024th!, `${label} every_1024th`);
  const asDouble = Float64Array.from(actual);
  assert.equal(numpySum(asDouble), golden.sum, `${label} sum`);
  assert.equal(numpySum(asDouble.map((v) => v * v)), golden.sum_sq, `${label} sum_sq`);
}

/** A short human label for a case. */
export function caseLabel(kind: string, golden: { seed: number; shape: number[] }): string {
  return `${kind} seed ${golden.seed} shape [${golden.shape.join(',')}]`;
}
