import type { RandomSource } from '../../src/random/random-source.js';

/**
 * A small seeded normal generator for tests that need noise but no torch-compatible values
 * (xorshift32 + Box–Muller). Counts its draws.
 */
export class SeededNormal implements RandomSource {
  draws = 0;
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  randn(shape: readonly number[]): Float32Array {
    this.draws++;
    const size = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const u1 = (this.next() + 1) / 4294967297;
      const u2 = this.next() / 4294967296;
      out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
    return out;
  }

  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}
