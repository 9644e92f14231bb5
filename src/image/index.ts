/**
 * Pictures in and out: the only module that imports sharp. Decode and validate users' pictures, prepare
 * image-to-image inputs, turn decoded VAE output into bytes, and write/read PNGs with AUTOMATIC1111 metadata.
 */
export { inspectImage } from './inspect.js';
export { decodeRgb, ALPHA_BACKGROUND } from './decode.js';
export { prepareInitImage, type InitImage } from './init-image.js';
export {
  fitWithinLimits,
  planCoverCrop,
  planWithinLimits,
  DEFAULT_MULTIPLE_OF,
  type Size,
  type Rect,
  type ResizePlan,
} from './size-policy.js';
export { encodePng } from './encode-png.js';
export { encodePreviewJpeg, previewLongSide } from './preview-jpeg.js';
export { readPngText } from './png-chunks.js';
export { formatInfotext, parseInfotext, type InfotextParams, type ParsedInfotext } from './infotext.js';
export { sniffImageFormat, SUPPORTED_FORMAT_NAMES, type ImageFormat, type SniffResult } from './sniff.js';
export type { RgbImage, ImageInfo, InspectLimits, InitImageLimits } from './types.js';
