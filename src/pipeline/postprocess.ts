/**
 * numpy's `round` on a float32 value: to the nearest integer, ties to even ("banker's rounding"), unlike
 * `Math.round`, which sends ties up.
 */
export function roundHalfToEven(value: number): number {
  const rounded = Math.round(value);
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/**
 * One picture of a decoded VAE batch → HWC RGB bytes, exactly as diffusers' `VaeImageProcessor.postprocess`
 * (`output_type="pil"`): `(x * 0.5 + 0.5).clamp(0, 1)` in float32 (torch), then `(x * 255).round().astype("uint8")`
 * in float32 (numpy, round half to even). Every float32 operation is computed in float64 and rounded once with
 * `Math.fround`, which is exact for a single +, × (no double-rounding error). NaN becomes 0.
 *
 * @param decoded the VAE decoder output, NCHW float32 `[n, 3, height, width]`
 * @param shape `[n, 3, height, width]`
 * @param index which picture of the batch (0-based)
 */
export function imageToUint8Rgb(decoded: Float32Array, shape: readonly number[], index = 0): Uint8Array {
  if (shape.length !== 4 || shape[1] !== 3) throw new RangeError(`Expected a [n, 3, height, width] shape, got [${shape.join(', ')}]`);
  const [count, , height, width] = shape as [number, number, number, number];
  if (![count, height, width].every((n) => Number.isSafeInteger(n) && n >= 1))
    throw new RangeError(`Expected positive integer dimensions, got [${shape.join(', ')}]`);
  if (decoded.length !== count * 3 * height * width)
    throw new RangeError(`Expected ${count * 3 * height * width} values for shape [${shape.join(', ')}], got ${decoded.length}`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new RangeError(`Expected \`index\` to be an integer from 0 to ${count - 1}, got \`${String(index)}\``);
  const plane = height * width;
  const base = index * 3 * plane;
  const rgb = new Uint8Array(plane * 3);
  for (let channel = 0; channel < 3; channel++) {
    const offset = base + channel * plane;
    for (let p = 0; p < plane; p++) {
      let x = Math.fround(Math.fround(decoded[offset + p]! * 0.5) + 0.5);
      if (!(x > 0)) x = 0;
      else if (x > 1) x = 1;
      rgb[p * 3 + channel] = roundHalfToEven(Math.fround(x * 255));
    }
  }
  return rgb;
}
