import { UserError } from '../../errors.js';
import { pilFilterByNumber, resizeRgb, type PilFilter } from './pil-resize.js';

/** openai/CLIP's pixel statistics, transformers' defaults for `image_mean` / `image_std`. */
export const openaiClipMean: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const openaiClipStd: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** How to resize: the shorter side to a length (aspect kept), or to an exact size. */
export type ClipResize = { readonly shortestEdge: number } | { readonly height: number; readonly width: number };

/** transformers' `CLIPImageProcessor` settings, read from a `preprocessor_config.json`. */
export interface ClipImageProcessorConfig {
  readonly doResize: boolean;
  readonly size: ClipResize;
  readonly resample: PilFilter;
  readonly doCenterCrop: boolean;
  readonly cropSize: { readonly height: number; readonly width: number };
  readonly doRescale: boolean;
  readonly rescaleFactor: number;
  readonly doNormalize: boolean;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
}

/**
 * Reads a `preprocessor_config.json` (`CLIPImageProcessor` / `CLIPFeatureExtractor`) with transformers'
 * defaults for absent keys: resize the shortest edge to 224 with bicubic resampling, centre-crop 224×224,
 * rescale by 1/255, normalise with openai/CLIP's mean and standard deviation. `size` and `crop_size` may be
 * plain numbers (older configs) or objects (`shortest_edge`, `height`/`width`).
 *
 * @throws UserError `model.badConfig` naming the file and the key.
 */
export function parseClipImageProcessorConfig(json: Readonly<Record<string, unknown>>, file: string): ClipImageProcessorConfig {
  const bad = (key: string, expected: string): UserError =>
    new UserError('model.badConfig', `${file}: expected \`${key}\` to be ${expected}, got \`${JSON.stringify(json[key])}\`.`);
  const flag = (key: string, fallback: boolean): boolean => {
    const value = json[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') throw bad(key, 'true or false');
    return value;
  };
  const positiveInteger = (value: unknown): value is number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 4096;
  const triple = (key: string, fallback: readonly [number, number, number]): readonly [number, number, number] => {
    const value = json[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'number' && Number.isFinite(value)) return [value, value, value];
    if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      return value as unknown as [number, number, number];
    }
    throw bad(key, 'three numbers');
  };

  let size: ClipResize;
  const rawSize = json['size'] ?? 224;
  if (positiveInteger(rawSize)) size = { shortestEdge: rawSize };
  else if (typeof rawSize === 'object' && rawSize !== null && positiveInteger((rawSize as Record<string, unknown>)['shortest_edge'])) {
    size = { shortestEdge: (rawSize as Record<string, number>)['shortest_edge']! };
  } else if (
    typeof rawSize === 'object' &&
    rawSize !== null &&
    positiveInteger((rawSize as Record<string, unknown>)['height']) &&
    positiveInteger((rawSize as Record<string, unknown>)['width'])
  ) {
    size = { height: (rawSize as Record<string, number>)['height']!, width: (rawSize as Record<string, number>)['width']! };
  } else throw bad('size', 'a side length or {"shortest_edge": n} or {"height": h, "width": w}');

  let cropSize: { height: number; width: number };
  const rawCrop = json['crop_size'] ?? 224;
  if (positiveInteger(rawCrop)) cropSize = { height: rawCrop, width: rawCrop };
  else if (
    typeof rawCrop === 'object' &&
    rawCrop !== null &&
    positiveInteger((rawCrop as Record<string, unknown>)['height']) &&
    positiveInteger((rawCrop as Record<string, unknown>)['width'])
  ) {
    cropSize = { height: (rawCrop as Record<string, number>)['height']!, width: (rawCrop as Record<string, number>)['width']! };
  } else throw bad('crop_size', 'a side length or {"height": h, "width": w}');

  const rawResample = json['resample'] ?? 3;
  const resample = typeof rawResample === 'number' ? pilFilterByNumber[rawResample] : undefined;
  if (resample === undefined) throw bad('resample', 'a PIL resampling filter number (0–5; 3 is bicubic)');

  const rawFactor = json['rescale_factor'] ?? 1 / 255;
  if (typeof rawFactor !== 'number' || !Number.isFinite(rawFactor) || rawFactor <= 0) throw bad('rescale_factor', 'a positive number');
  const imageStd = triple('image_std', openaiClipStd);
  if (imageStd.some((v) => v === 0)) throw bad('image_std', 'three non-zero numbers');

  return {
    doResize: flag('do_resize', true),
    size,
    resample,
    doCenterCrop: flag('do_center_crop', true),
    cropSize,
    doRescale: flag('do_rescale', true),
    rescaleFactor: rawFactor,
    doNormalize: flag('do_normalize', true),
    imageMean: triple('image_mean', openaiClipMean),
    imageStd,
  };
}

/** `(height, width)` after transformers' `get_resize_output_image_size` (shortest edge, aspect kept, truncated). */
export function resizedSize(width: number, height: number, size: ClipResize): { width: number; height: number } {
  if (!('shortestEdge' in size)) return { width: size.width, height: size.height };
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.trunc((size.shortestEdge * long) / short);
  return width <= height ? { width: size.shortestEdge, height: newLong } : { width: newLong, height: size.shortestEdge };
}

/**
 * transformers' `center_crop` on an HWC picture: the window starts at `(side - crop) // 2` (Python's floor
 * division); a picture smaller than the window is first padded with zeros, centred (`ceil` of half the
 * missing rows or columns before it).
 */
function centerCrop(rgb: Uint8Array, width: number, height: number, crop: { width: number; height: number }): Uint8Array {
  let source = rgb;
  let w = width;
  let h = height;
  if (crop.width > width || crop.height > height) {
    const paddedWidth = Math.max(crop.width, width);
    const paddedHeight = Math.max(crop.height, height);
    const top = Math.ceil((paddedHeight - height) / 2);
    const left = Math.ceil((paddedWidth - width) / 2);
    const padded = new Uint8Array(paddedWidth * paddedHeight * 3);
    for (let y = 0; y < height; y++) padded.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), ((y + top) * paddedWidth + left) * 3);
    source = padded;
    w = paddedWidth;
    h = paddedHeight;
  }
  const top = Math.floor((h - crop.height) / 2);
  const left = Math.floor((w - crop.width) / 2);
  const out = new Uint8Array(crop.width * crop.height * 3);
  for (let y = 0; y < crop.height; y++) {
    const start = ((y + top) * w + left) * 3;
    out.set(source.subarray(start, start + crop.width * 3), y * crop.width * 3);
  }
  return out;
}

/** An 8-bit RGB picture, row by row (HWC). */
export interface RgbPicture {
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * `CLIPImageProcessor(picture, return_tensors="np").pixel_values` for one picture: resize (Pillow), centre
 * crop, rescale (the uint8 value times `rescale_factor` in float64, then float32) and normalise (`(x - mean)
 * / std` in float32), channels first. Returns `[1, 3, height, width]` float32 values.
 */
export function clipPixelValues(
  picture: RgbPicture,
  config: ClipImageProcessorConfig,
): { data: Float32Array; dims: [1, 3, number, number] } {
  let { rgb, width, height } = picture;
  if (rgb.length !== width * height * 3) throw new RangeError(`Expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  if (config.doResize) {
    const target = resizedSize(width, height, config.size);
    rgb = resizeRgb(rgb, width, height, target.width, target.height, config.resample);
    width = target.width;
    height = target.height;
  }
  if (config.doCenterCrop) {
    rgb = centerCrop(rgb, width, height, config.cropSize);
    width = config.cropSize.width;
    height = config.cropSize.height;
  }
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  const mean = config.imageMean.map(Math.fround);
  const std = config.imageStd.map(Math.fround);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let value = rgb[p * 3 + c]!;
      if (config.doRescale) value = Math.fround(value * config.rescaleFactor);
      if (config.doNormalize) value = Math.fround(Math.fround(value - mean[c]!) / std[c]!);
      data[c * plane + p] = value;
    }
  }
  return { data, dims: [1, 3, height, width] };
}
