import type { ImageFormat } from './sniff.js';

export type { ImageFormat } from './sniff.js';

/** An 8-bit RGB picture, rows top to bottom, pixels interleaved `R G B` (HWC). */
export interface RgbImage {
  width: number;
  height: number;
  /** `width * height * 3` bytes. */
  rgb: Uint8Array;
}

/** What {@link inspectImage} reports about an accepted file. */
export interface ImageInfo {
  format: ImageFormat;
  /** Width as displayed, i.e. after applying the EXIF orientation. */
  width: number;
  /** Height as displayed, i.e. after applying the EXIF orientation. */
  height: number;
  /** Number of frames (1 for still pictures); only the first frame is ever used. */
  pages: number;
}

/** Limits applied to every picture a user sends. */
export interface InspectLimits {
  /**
   * Largest accepted `width * height` of the (first frame of the) input, checked against the size the file
   * declares in its header before anything is decoded, and passed to sharp's `limitInputPixels`.
   */
  maxPixels: number;
}

/** Limits for turning a user's picture into an image-to-image input. */
export interface InitImageLimits extends InspectLimits {
  /** Largest `width * height` of the prepared image when no target size is given. */
  maxOutputPixels: number;
  /** Largest width or height of the prepared image when no target size is given. */
  maxSide: number;
  /** Both sides of the prepared image are multiples of this (the VAE needs 8; some models 16 or 64). Default 8. */
  multipleOf?: number;
}
