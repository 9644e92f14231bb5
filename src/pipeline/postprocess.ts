/**
 * diffusers' output postprocessing for one image of a decoded batch: `(x / 2 + 0.5).clamp(0, 1)` in float32,
 * then numpy's `(x * 255).round().astype("uint8")` (round half to even), transposed from NCHW to HWC RGB.
 */
export function decodedToRgb(decoded: Float32Array, height: number, width: number): Uint8Array {
  const plane = height * width;
  const rgb = new Uint8Array(plane * 3);
  for (let channel = 0; channel < 3; channel++) {
    const offset = channel * plane;
    for (let p = 0; p < plane; p++) {
      let value = Math.fround(Math.fround(decoded[offset + p]! / 2) + 0.5);
      value = value < 0 ? 0 : value > 1 ? 1 : value;
      rgb[p * 3 + channel] = roundHalfEven(Math.fround(value * 255));
    }
  }
  return rgb;
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
