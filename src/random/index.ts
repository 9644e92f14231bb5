/**
 * Seedable standard-normal generators that reproduce torch's (and AUTOMATIC1111's) noise exactly.
 */
import { PhiloxGenerator } from './philox-generator.js';
import type { RandomSource } from './random-source.js';
import { TorchCpuGenerator } from './torch-cpu-generator.js';

export type { RandomSource } from './random-source.js';
export { BatchRandomSource } from './batch-random-source.js';
export { PhiloxGenerator } from './philox-generator.js';
export { TorchCpuGenerator } from './torch-cpu-generator.js';
export { MAX_RANDOM_SEED, MAX_SEED, normalizeSeed, parseSeed, randomSeed } from './seed.js';

/**
 * Which noise to reproduce: `cpu` = `torch.Generator('cpu')` (what diffusers uses on CPU and what
 * its goldens use), `philox` = torch.randn on an NVIDIA GPU as AUTOMATIC1111's "NV" RNG imitates it.
 */
export type RngKind = 'cpu' | 'philox';

/** Every {@link RngKind}, for option parsing. */
export const rngKinds: readonly RngKind[] = ['cpu', 'philox'];

/** True for a string that names an {@link RngKind}. */
export function isRngKind(value: string): value is RngKind {
  return (rngKinds as readonly string[]).includes(value);
}

/** A fresh generator of the given kind seeded with `seed` (UserError `options.seed` if out of range). */
export function createGenerator(kind: RngKind, seed: number | bigint): RandomSource {
  switch (kind) {
    case 'cpu':
      return new TorchCpuGenerator(seed);
    case 'philox':
      return new PhiloxGenerator(seed);
  }
}
