/**
 * diffusers' `randn_tensor(shape, generator=[g1, g2, ...])`: each batch entry drawn from its own generator.
 */
import type { RandomSource } from './random-source.js';
import { numelOf } from './shape.js';

/**
 * Draws entry i of the first dimension from generator i (`randn((1, ...shape[1:]))` each, in order),
 * so that jobs with different seeds can share one batch and still get their own noise.
 * With a single generator the whole tensor comes from it, as diffusers does for a one-element list.
 */
export class BatchRandomSource implements RandomSource {
  private readonly generators: readonly RandomSource[];

  /** Throws a RangeError for an empty list. */
  constructor(generators: readonly RandomSource[]) {
    if (generators.length === 0) throw new RangeError('BatchRandomSource needs at least one generator');
    this.generators = [...generators];
  }

  /** The number of per-entry generators. */
  get batchSize(): number {
    return this.generators.length;
  }

  /**
   * Draws `shape` with `shape[0]` equal to the number of generators (RangeError otherwise),
   * concatenating the per-generator draws along the first dimension.
   */
  randn(shape: readonly number[]): Float32Array {
    const only = this.generators.length === 1 ? this.generators[0] : undefined;
    if (only !== undefined) return only.randn(shape);
    const total = numelOf(shape);
    if (shape[0] !== this.generators.length) {
      throw new RangeError(`batch of ${shape[0] ?? 'no'} entries for ${this.generators.length} generators`);
    }
    const entryShape = [1, ...shape.slice(1)];
    const entrySize = total / this.generators.length;
    const out = new Float32Array(total);
    this.generators.forEach((generator, index) => {
      const entry = generator.randn(entryShape);
      if (entry.length !== entrySize) throw new RangeError(`generator ${index} returned ${entry.length} values, expected ${entrySize}`);
      out.set(entry, index * entrySize);
    });
    return out;
  }
}
