/** A picture size in pixels. */
export interface Size {
  width: number;
  height: number;
}

/** A rectangle in pixels, `left`/`top` from the top-left corner. */
export interface Rect extends Size {
  left: number;
  top: number;
}

/**
 * How a source picture becomes the prepared size: optionally resample (Lanczos3) to `resize`, then cut `crop`
 * out of the (resampled) picture. `resize` is absent when no resampling is needed, so the pixels stay bit-exact.
 */
export interface ResizePlan {
  resize?: Size;
  crop: Rect;
}

/** Default for `multipleOf`: the VAE of Stable Diffusion downsamples by 8. */
export const DEFAULT_MULTIPLE_OF = 8;

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`Expected \`${name}\` to be a positive integer, got \`${String(value)}\``);
}

function floorTo(value: number, multiple: number): number {
  return Math.max(multiple, Math.floor(value / multiple) * multiple);
}

/**
 * The size policy when the caller gives no target size: keep the source's aspect ratio; scale down (never up) so
 * that the area is at most `maxOutputPixels` and both sides at most `maxSide`; then round each side DOWN to a
 * multiple of `multipleOf`, never below `multipleOf`.
 */
export function fitWithinLimits(source: Size, limits: { maxOutputPixels: number; maxSide: number; multipleOf?: number }): Size {
  assertPositiveInteger('width', source.width);
  assertPositiveInteger('height', source.height);
  const multipleOf = limits.multipleOf ?? DEFAULT_MULTIPLE_OF;
  assertPositiveInteger('multipleOf', multipleOf);
  const { maxOutputPixels, maxSide } = limits;
  if (!(maxSide >= multipleOf))
    throw new RangeError(`Expected \`maxSide\` to be at least \`multipleOf\` (${multipleOf}), got \`${String(maxSide)}\``);
  if (!(maxOutputPixels >= multipleOf * maxSide)) {
    throw new RangeError(
      `Expected \`maxOutputPixels\` to be at least \`multipleOf\` x \`maxSide\` (${multipleOf * maxSide}), got \`${String(maxOutputPixels)}\``,
    );
  }
  const scale = Math.min(1, Math.sqrt(maxOutputPixels / (source.width * source.height)), maxSide / source.width, maxSide / source.height);
  let width = Math.min(floorTo(source.width * scale, multipleOf), floorTo(maxSide, multipleOf));
  let height = Math.min(floorTo(source.height * scale, multipleOf), floorTo(maxSide, multipleOf));
  // Guards against a float rounding of `scale` landing one multiple too high.
  while (width * height > maxOutputPixels) {
    if (width >= height) width -= multipleOf;
    else height -= multipleOf;
  }
  return { width, height };
}

/**
 * Plans "scale to cover, then centre-crop" from `source` to exactly `target`. When one side already matches and
 * the other is at least as large (in particular when the sizes are equal), the plan is a pure crop: no
 * resampling happens.
 */
export function planCoverCrop(source: Size, target: Size): ResizePlan {
  for (const [name, value] of [
    ['source width', source.width],
    ['source height', source.height],
    ['target width', target.width],
    ['target height', target.height],
  ] as const) {
    assertPositiveInteger(name, value);
  }
  const scaleX = target.width / source.width;
  const scaleY = target.height / source.height;
  let resized: Size;
  if (scaleX >= scaleY) resized = { width: target.width, height: Math.max(target.height, Math.round(source.height * scaleX)) };
  else resized = { width: Math.max(target.width, Math.round(source.width * scaleY)), height: target.height };
  if (resized.width === source.width && resized.height === source.height) return { crop: centreCrop(source, target) };
  return { resize: resized, crop: centreCrop(resized, target) };
}

/**
 * Plans the image-to-image size policy without a target: the size is {@link fitWithinLimits}; it is reached by a
 * pure centre crop (no resampling) when that cuts fewer than `multipleOf` pixels from each side, which is always
 * the case when the source needed no downscaling; otherwise by {@link planCoverCrop} (Lanczos3 resampling).
 */
export function planWithinLimits(source: Size, limits: { maxOutputPixels: number; maxSide: number; multipleOf?: number }): ResizePlan {
  const target = fitWithinLimits(source, limits);
  const multipleOf = limits.multipleOf ?? DEFAULT_MULTIPLE_OF;
  const widthCut = source.width - target.width;
  const heightCut = source.height - target.height;
  if (widthCut >= 0 && widthCut < multipleOf && heightCut >= 0 && heightCut < multipleOf) return { crop: centreCrop(source, target) };
  return planCoverCrop(source, target);
}

/** The `target`-sized rectangle centred in `outer` (odd leftovers go to the right and bottom). */
export function centreCrop(outer: Size, target: Size): Rect {
  return {
    left: Math.floor((outer.width - target.width) / 2),
    top: Math.floor((outer.height - target.height) / 2),
    width: target.width,
    height: target.height,
  };
}
