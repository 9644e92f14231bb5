import { sharp } from './sharp-instance.js';
import { encodeTextChunk, insertAfterIhdr } from './png-chunks.js';
import type { RgbImage } from './types.js';

/**
 * Encodes an 8-bit RGB picture as PNG (sharp, no palette, no metadata) and stores `text` in it, one chunk per
 * entry in the object's key order, written as Pillow's `PngInfo.add_text` writes them (which AUTOMATIC1111 uses
 * for its `parameters` key): `tEXt` when the value is Latin-1, `iTXt` (UTF-8, uncompressed) otherwise. The chunks
 * sit right after IHDR, where Pillow puts them too, so readers that stop at the first IDAT still find them.
 * Keys must be 1–79 Latin-1 characters (PNG rule); anything else throws a RangeError.
 */
export async function encodePng(image: RgbImage, text: Record<string, string> = {}): Promise<Buffer> {
  const { width, height, rgb } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`Expected positive integer \`width\` and \`height\`, got ${String(width)}x${String(height)}`);
  }
  if (rgb.length !== width * height * 3)
    throw new RangeError(`Expected ${width * height * 3} RGB bytes for ${width}x${height}, got ${rgb.length}`);
  const chunks = Object.entries(text).map(([key, value]) => encodeTextChunk(key, value));
  const png = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .png({ palette: false })
    .toBuffer();
  return chunks.length === 0 ? png : insertAfterIhdr(png, chunks);
}
