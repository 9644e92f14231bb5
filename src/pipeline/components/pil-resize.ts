/**
 * Pillow's `Image.resize` for 8-bit RGB pictures (`libImaging/Resample.c`), which transformers'
 * `CLIPImageProcessor` uses to resize the safety checker's input. Ported so that the checker sees the very
 * pixels it sees under diffusers: separable convolution, horizontal pass first, the filter stretched by the
 * scale when shrinking (antialiasing), coefficients normalised and turned into 22-bit fixed point, each pass
 * rounded and clamped to 0–255.
 */

/** Pillow's resampling filters by their `Image.Resampling` numbers, as preprocessor configs store them. */
export type PilFilter = 'nearest' | 'lanczos' | 'bilinear' | 'bicubic' | 'box' | 'hamming';

/** `PIL.Image.Resampling` value → filter name (`resample` in `preprocessor_config.json`). */
export const pilFilterByNumber: Readonly<Record<number, PilFilter>> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

interface Filter {
  readonly support: number;
  weight(x: number): number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const filters: Readonly<Record<Exclude<PilFilter, 'nearest'>, Filter>> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  hamming: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      return (Math.sin(px) / px) * (0.54 + 0.46 * Math.cos(px));
    },
  },
  // Keys' cubic with a = -0.5, as Pillow.
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, weight: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const precisionBits = 32 - 8 - 2;

/** One output line's source range and fixed-point weights. */
interface Coefficients {
  /** Kernel length, the same for every output position. */
  readonly size: number;
  /** `[first source index, count]` per output position. */
  readonly bounds: Int32Array;
  /** `size` weights per output position, in 22-bit fixed point. */
  readonly weights: Float64Array;
}

/** Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc`. */
function precompute(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * size);
  const raw = new Float64Array(size);
  // Multiplied by the reciprocal, as Pillow does: dividing could differ in the last bit.
  const inverseScale = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; center - support + 0.5 can be negative.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * inverseScale);
      raw[x] = w;
      total += w;
    }
    for (let x = 0; x < size; x++) {
      const w = x < xmax ? (total !== 0 ? raw[x]! / total : raw[x]!) : 0;
      weights[xx * size + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << precisionBits)) : Math.trunc(0.5 + w * (1 << precisionBits));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { size, bounds, weights };
}

function clip8(value: number): number {
  if (value >= 2 ** (precisionBits + 8)) return 255;
  if (value <= 0) return 0;
  return Math.floor(value / 2 ** precisionBits);
}

/** One separable pass over an RGB picture: along x (`horizontal`) or along y. */
function resamplePass(
  source: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  coefficients: Coefficients,
  horizontal: boolean,
): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight * 3);
  const { size, bounds, weights } = coefficients;
  const half = 2 ** (precisionBits - 1);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const position = horizontal ? x : y;
      const first = bounds[position * 2]!;
      const count = bounds[position * 2 + 1]!;
      const base = position * size;
      let r = half;
      let g = half;
      let b = half;
      for (let k = 0; k < count; k++) {
        const w = weights[base + k]!;
        const index = horizontal ? (y * width + first + k) * 3 : ((first + k) * width + x) * 3;
        r += source[index]! * w;
        g += source[index + 1]! * w;
        b += source[index + 2]! * w;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return out;
}

/** Pillow's nearest-neighbour resize: the source pixel under each output pixel's centre. */
function resizeNearest(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight * 3);
  const xScale = width / outWidth;
  const yScale = height / outHeight;
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(height - 1, Math.floor((y + 0.5) * yScale));
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(width - 1, Math.floor((x + 0.5) * xScale));
      out.set(rgb.subarray((sy * width + sx) * 3, (sy * width + sx) * 3 + 3), (y * outWidth + x) * 3);
    }
  }
  return out;
}

/**
 * Resizes an 8-bit HWC RGB picture to `outWidth × outHeight` as `PIL.Image.resize((outWidth, outHeight),
 * resample=filter)` does (no `reducing_gap`, the whole picture as the box).
 */
export function resizeRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  filter: PilFilter,
): Uint8Array {
  if (rgb.length !== width * height * 3) throw new RangeError(`Expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  if (!(outWidth >= 1 && outHeight >= 1)) throw new RangeError(`Expected a positive output size, got ${outWidth}x${outHeight}`);
  if (outWidth === width && outHeight === height) return rgb.slice();
  if (filter === 'nearest') return resizeNearest(rgb, width, height, outWidth, outHeight);
  const kernel = filters[filter];
  let current = rgb;
  let currentWidth = width;
  if (outWidth !== width) {
    current = resamplePass(current, width, height, outWidth, height, precompute(width, outWidth, kernel), true);
    currentWidth = outWidth;
  }
  if (outHeight !== height) {
    current = resamplePass(current, currentWidth, height, currentWidth, outHeight, precompute(height, outHeight, kernel), false);
  }
  return current;
}
