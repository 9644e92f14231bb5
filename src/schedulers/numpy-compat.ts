/**
 * The few numpy primitives diffusers builds its schedules from, reproduced with numpy's exact float64
 * arithmetic so that rounding lands on the same integers and the same float32 values.
 */

/** `np.round` / `np.rint`: round half to even. */
export function roundHalfEven(value: number): number {
  if (!Number.isFinite(value)) return value;
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** `np.linspace(start, stop, num, endpoint)` in float64: `start + i * step`, last element exactly `stop`. */
export function numpyLinspace(start: number, stop: number, num: number, endpoint = true): Float64Array {
  const out = new Float64Array(num);
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) {
    // numpy multiplies by `delta` directly when there is no division (num = 1 with endpoint) and takes
    // the `y / div * delta` route when the step underflows to zero.
    const offset = div <= 0 ? i * delta : step === 0 ? (i / div) * delta : i * step;
    out[i] = offset + start;
  }
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/**
 * `np.arange(start, stop, step)` for float arguments: the length is `ceil((stop - start) / step)` and the
 * values follow numpy's fill rule `start + i * ((start + step) - start)`.
 */
export function numpyArange(start: number, stop: number, step: number): Float64Array {
  const length = Math.max(Math.ceil((stop - start) / step), 0);
  const out = new Float64Array(length);
  if (length === 0) return out;
  out[0] = start;
  if (length === 1) return out;
  const second = start + step;
  out[1] = second;
  const delta = second - start;
  for (let i = 2; i < length; i++) out[i] = start + i * delta;
  return out;
}

/**
 * `np.interp(x, np.arange(fp.length), fp)`: piecewise-linear interpolation on the integer grid, in float64,
 * clamped to the end values, with numpy's `slope * (x - xp[j]) + fp[j]` formula.
 */
export function interpOnIntegerGrid(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (Number.isNaN(x)) return x;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  const y0 = fp[j]!;
  const slope = fp[j + 1]! - y0;
  return slope * (x - j) + y0;
}
