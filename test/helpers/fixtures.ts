import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json), found from this compiled file's location. */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
})();

/** Absolute path of a file under `test/fixtures/`. */
export function fixturePath(...parts: string[]): string {
  return join(repoRoot, 'test', 'fixtures', ...parts);
}

/** The tiny random-weight Stable Diffusion model folder used by every pipeline test. */
export const tinyModelDir: string = fixturePath('tiny-sd');

/** The tiny random-weight Stable Diffusion XL model folder (two text encoders, an added-conditions UNet). */
export const tinySdxlModelDir: string = fixturePath('tiny-sdxl');

const jsonCache = new Map<string, unknown>();

/** Parses (once per process) a JSON fixture file. */
export function loadJsonFixture<T = any>(name: string): T {
  let value = jsonCache.get(name);
  if (value === undefined) {
    value = JSON.parse(readFileSync(fixturePath(name), 'utf8'));
    jsonCache.set(name, value);
  }
  return value as T;
}

/** A fixture tensor as stored in the JSON files. */
export interface FixtureTensor {
  dtype: string;
  shape: number[];
  data: number[];
}

/** Exact float32 values of a JSON number list (the fixtures store shortest round-trip decimals). */
export function f32(values: readonly number[] | FixtureTensor): Float32Array {
  return Float32Array.from(Array.isArray(values) ? values : (values as FixtureTensor).data);
}

/** Largest absolute element-wise difference of two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    if (d > worst) worst = d;
  }
  return worst;
}
