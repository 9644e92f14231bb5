/**
 * A bit-exact port of `torch.Generator('cpu')` + `torch.randn(shape, generator=g)` for float32 as
 * torch 1.13 / 2.x computes it on x86-64 with the AVX2 kernels.
 *
 * References: `aten/src/ATen/core/MT19937RNGEngine.h`, `CPUGeneratorImpl.cpp`,
 * `core/DistributionsHelper.h`, `core/TransformationHelper.h` and
 * `native/cpu/DistributionTemplates.h` (`normal_kernel`, `normal_fill_AVX2`, `normal_fill_16_AVX2`).
 */
import { avxLogf, avxSinCosf } from './avx-mathfun.js';
import { Mt19937 } from './mt19937.js';
import type { RandomSource } from './random-source.js';
import { normalizeSeed } from './seed.js';
import { numelOf } from './shape.js';

const TWO_PI_F32 = Math.fround(2 * Math.PI);
const TWO_POW_MINUS_24 = 2 ** -24;
const TWO_POW_MINUS_53 = 2 ** -53;
const TWO_POW_32 = 2 ** 32;

/** torch's CPU generator: mt19937 state plus the cached second Box-Muller value of the scalar path. */
export class TorchCpuGenerator implements RandomSource {
  private readonly engine = new Mt19937(0);
  private seedValue = 0n;
  // at::CPUGeneratorImpl::next_double_normal_sample_ (an optional<double>).
  private nextDoubleNormalSample: number | null = null;
  private readonly sinCos = new Float64Array(2);

  /** Same as `torch.Generator('cpu').manual_seed(seed)`; see {@link TorchCpuGenerator.manualSeed}. */
  constructor(seed: number | bigint) {
    this.manualSeed(seed);
  }

  /**
   * Re-seeds like `manual_seed`: mt19937 is seeded with the low 32 bits of the 64-bit seed and the
   * cached normal value is dropped. Throws `UserError` (`options.seed`) for seeds outside [0, 2^64 - 1].
   */
  manualSeed(seed: number | bigint): this {
    this.seedValue = normalizeSeed(seed);
    this.engine.seed(Number(this.seedValue & 0xffffffffn));
    this.nextDoubleNormalSample = null;
    return this;
  }

  /** The seed last given, like `Generator.initial_seed()`. */
  get initialSeed(): bigint {
    return this.seedValue;
  }

  /** `torch.randn(shape, generator=this)` as float32, row-major. */
  randn(shape: readonly number[]): Float32Array {
    const numel = numelOf(shape);
    const data = new Float32Array(numel);
    if (numel >= 16) this.normalFill(data);
    else for (let i = 0; i < numel; i++) data[i] = this.scalarNormal();
    return data;
  }

  /** `normal_fill_AVX2`: one 24-bit float uniform per element, then Box-Muller in blocks of 16. */
  private normalFill(data: Float32Array): void {
    const size = data.length;
    for (let i = 0; i < size; i++) data[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= size; i += 16) this.normalFill16(data, i);
    if (size % 16 !== 0) {
      // Recompute the last 16 values from fresh uniforms (overlapping the previous block).
      const start = size - 16;
      for (let i = 0; i < 16; i++) data[start + i] = this.uniformFloat();
      this.normalFill16(data, start);
    }
  }

  /** `normal_fill_16_AVX2` with mean 0 and std 1: lanes j and j + 8 form one Box-Muller pair. */
  private normalFill16(data: Float32Array, offset: number): void {
    const f = Math.fround;
    const sinCos = this.sinCos;
    for (let j = 0; j < 8; j++) {
      const u1 = f(1 - data[offset + j]!);
      const u2 = data[offset + j + 8]!;
      const radius = f(Math.sqrt(f(-2 * avxLogf(u1))));
      avxSinCosf(f(TWO_PI_F32 * u2), sinCos);
      // The kernel ends with fmadd(n, std = 1, mean = 0): exact, except that it turns -0 into +0.
      data[offset + j] = f(radius * sinCos[1]!) + 0;
      data[offset + j + 8] = f(radius * sinCos[0]!) + 0;
    }
  }

  /** `uniform_real_distribution<float>(0, 1)`: the low 24 bits of one 32-bit draw, times 2^-24. */
  private uniformFloat(): number {
    return (this.engine.nextUint32() & 0xffffff) * TWO_POW_MINUS_24;
  }

  /** `uniform_real_distribution<double>(0, 1)`: the low 53 bits of `random64()` (first draw high), times 2^-53. */
  private uniformDouble(): number {
    const high = this.engine.nextUint32();
    const low = this.engine.nextUint32();
    return ((high & 0x1fffff) * TWO_POW_32 + low) * TWO_POW_MINUS_53;
  }

  /** `normal_distribution<double>` (tensors under 16 elements), cast to float32. */
  private scalarNormal(): number {
    const cached = this.nextDoubleNormalSample;
    if (cached !== null) {
      this.nextDoubleNormalSample = null;
      return Math.fround(cached);
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    // torch 1.13 writes log(1 - u2); torch >= 2.1 writes log1p(-u2). 1 - u2 is exact here, so the two
    // can differ at most in the last bit of a double, which the cast to float32 hides except in the
    // rare case where it sits on a float32 rounding boundary.
    const radius = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormalSample = radius * Math.sin(theta);
    return Math.fround(radius * Math.cos(theta));
  }
}
