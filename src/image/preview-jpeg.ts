import { sharp } from './sharp-instance.js';
import type { RgbImage } from './types.js';

/** Longest side of a live preview as sent: small enough to upload in a blink, large enough to see the picture. */
export const previewLongSide = 384;

/**
 * Encodes the live previews of one job's pictures as one JPEG: each preview scaled (Lanczos3) so the picture's
 * longest side is at most {@link previewLongSide} — a linear-map preview is 1/8 of the picture's size, a tiny
 * decoder's the full size — and several pictures side by side in a grid of two columns, as Midjourney shows a
 * job's four. `size` is the size of the pictures being drawn, so every preview keeps their aspect ratio.
 */
export async function encodePreviewJpeg(previews: readonly RgbImage[], size: { width: number; height: number }): Promise<Buffer> {
  if (previews.length === 0) throw new RangeError('encodePreviewJpeg needs at least one preview');
  const scale = Math.min(1, previewLongSide / Math.max(size.width, size.height));
  const cell = { width: Math.max(1, Math.round(size.width * scale)), height: Math.max(1, Math.round(size.height * scale)) };
  const tiles = await Promise.all(
    previews.map((image) => {
      if (image.rgb.length !== image.width * image.height * 3)
        throw new RangeError(
          `Expected ${image.width * image.height * 3} RGB bytes for ${image.width}x${image.height}, got ${image.rgb.length}`,
        );
      return sharp(Buffer.from(image.rgb.buffer, image.rgb.byteOffset, image.rgb.byteLength), {
        raw: { width: image.width, height: image.height, channels: 3 },
      })
        .resize(cell.width, cell.height, { fit: 'fill', kernel: 'lanczos3' })
        .raw()
        .toBuffer();
    }),
  );
  const columns = tiles.length === 1 ? 1 : 2;
  const rows = Math.ceil(tiles.length / columns);
  return sharp({ create: { width: cell.width * columns, height: cell.height * rows, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite(
      tiles.map((tile, index) => ({
        input: tile,
        raw: { width: cell.width, height: cell.height, channels: 3 as const },
        left: (index % columns) * cell.width,
        top: Math.floor(index / columns) * cell.height,
      })),
    )
    .jpeg({ quality: 75 })
    .toBuffer();
}
