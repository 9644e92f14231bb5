/**
 * The 32-bit Mersenne Twister MT19937 (Matsumoto & Nishimura 1998) with the reference
 * `init_genrand` seeding, as `at::mt19937` implements it for torch's CPU generator.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** A Mersenne Twister engine producing unsigned 32-bit integers. */
export class Mt19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  /** Seeds the engine with a 32-bit value (`init_genrand`). */
  constructor(seed: number) {
    this.seed(seed);
  }

  /** Re-seeds the engine with a 32-bit value (higher bits are ignored). */
  seed(seed: number): void {
    const state = this.state;
    state[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const previous = state[i - 1]!;
      state[i] = Math.imul(1812433253, previous ^ (previous >>> 30)) + i;
    }
    this.index = N;
  }

  /** The next output, an integer in [0, 2^32). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const state = this.state;
    for (let i = 0; i < N; i++) {
      const y = (state[i]! & UPPER_MASK) | (state[(i + 1) % N]! & LOWER_MASK);
      state[i] = state[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }
}
