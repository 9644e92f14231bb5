/**
 * Tiled VAE decoding, following diffusers' `AutoencoderKL.tiled_decode` (`enable_vae_tiling`): the latents
 * are cut into overlapping square tiles, each tile is decoded on its own, and neighbouring tiles are
 * cross-faded over the overlap so no seam shows. The decoder's memory then depends on the tile size, not on
 * the picture's: its mid-block attention grows with the square of the latent area.
 */

/** diffusers' tiling parameters. */
export interface VaeTiling {
  /** Latent side of one tile: `sample_size / 2 ** (len(block_out_channels) - 1)` (64 for SD's VAE). */
  readonly tileLatentSize: number;
  /** Share of a tile that overlaps its neighbour (diffusers: 0.25). */
  readonly overlapFactor: number;
  /** Pixels per latent cell (8). */
  readonly scaleFactor: number;
}

/** diffusers' rule for when a decode is tiled: when either latent side exceeds the tile. */
export function needsTiling(latentHeight: number, latentWidth: number, tiling: VaeTiling): boolean {
  return latentHeight > tiling.tileLatentSize || latentWidth > tiling.tileLatentSize;
}

/** Decodes `[1, 4, h, w]` latents into `[1, 3, 8h, 8w]` pixels. */
export type TileDecoder = (latents: Float32Array, latentHeight: number, latentWidth: number) => Promise<Float32Array>;

interface DecodedTile {
  readonly pixels: Float32Array;
  readonly height: number;
  readonly width: number;
}

/**
 * Decodes `[1, channels, latentHeight, latentWidth]` latents tile by tile and returns `[1, 3, H, W]` pixels,
 * as diffusers does: tiles start every `floor(tile × (1 − overlap))` latent cells; each decoded tile is
 * blended with the tile above over `floor(tileSample × overlap)` rows and with the tile to its left over
 * as many columns (linear weights `y / extent`), both in place and in that order; of each tile the first
 * `tileSample − extent` rows and columns are kept.
 */
export async function decodeTiled(
  latents: Float32Array,
  channels: number,
  latentHeight: number,
  latentWidth: number,
  tiling: VaeTiling,
  decodeTile: TileDecoder,
): Promise<Float32Array> {
  const { tileLatentSize, overlapFactor, scaleFactor } = tiling;
  const tileSampleSize = tileLatentSize * scaleFactor;
  const stride = Math.trunc(tileLatentSize * (1 - overlapFactor));
  const blendExtent = Math.trunc(tileSampleSize * overlapFactor);
  const rowLimit = tileSampleSize - blendExtent;
  if (!(stride >= 1)) throw new RangeError(`Tiling overlap ${overlapFactor} leaves no stride for ${tileLatentSize}-cell tiles`);

  const rows: DecodedTile[][] = [];
  for (let top = 0; top < latentHeight; top += stride) {
    const row: DecodedTile[] = [];
    for (let left = 0; left < latentWidth; left += stride) {
      const height = Math.min(tileLatentSize, latentHeight - top);
      const width = Math.min(tileLatentSize, latentWidth - left);
      const tile = cropLatents(latents, channels, latentHeight, latentWidth, top, left, height, width);
      row.push({ pixels: await decodeTile(tile, height, width), height: height * scaleFactor, width: width * scaleFactor });
    }
    rows.push(row);
  }

  const outHeight = latentHeight * scaleFactor;
  const outWidth = latentWidth * scaleFactor;
  const out = new Float32Array(3 * outHeight * outWidth);
  let outTop = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let outLeft = 0;
    let keptHeight = 0;
    for (let j = 0; j < row.length; j++) {
      const tile = row[j]!;
      if (i > 0) blendVertical(rows[i - 1]![j]!, tile, blendExtent);
      if (j > 0) blendHorizontal(row[j - 1]!, tile, blendExtent);
      keptHeight = Math.min(rowLimit, tile.height);
      const keptWidth = Math.min(rowLimit, tile.width);
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < keptHeight; y++) {
          const from = (c * tile.height + y) * tile.width;
          out.set(tile.pixels.subarray(from, from + keptWidth), (c * outHeight + outTop + y) * outWidth + outLeft);
        }
      }
      outLeft += keptWidth;
    }
    outTop += keptHeight;
  }
  return out;
}

function cropLatents(
  latents: Float32Array,
  channels: number,
  height: number,
  width: number,
  top: number,
  left: number,
  cropHeight: number,
  cropWidth: number,
): Float32Array {
  const tile = new Float32Array(channels * cropHeight * cropWidth);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < cropHeight; y++) {
      const from = (c * height + top + y) * width + left;
      tile.set(latents.subarray(from, from + cropWidth), (c * cropHeight + y) * cropWidth);
    }
  }
  return tile;
}

/** `b[:, :, y, :] = a[:, :, -extent + y, :] * (1 - y / extent) + b[:, :, y, :] * (y / extent)`, in float32. */
function blendVertical(a: DecodedTile, b: DecodedTile, blendExtent: number): void {
  const extent = Math.min(a.height, b.height, blendExtent);
  const width = Math.min(a.width, b.width);
  for (let y = 0; y < extent; y++) {
    const keepA = Math.fround(1 - y / extent);
    const takeB = Math.fround(y / extent);
    for (let c = 0; c < 3; c++) {
      const rowA = (c * a.height + a.height - extent + y) * a.width;
      const rowB = (c * b.height + y) * b.width;
      for (let x = 0; x < width; x++) {
        b.pixels[rowB + x] = Math.fround(Math.fround(a.pixels[rowA + x]! * keepA) + Math.fround(b.pixels[rowB + x]! * takeB));
      }
    }
  }
}

/** `b[:, :, :, x] = a[:, :, :, -extent + x] * (1 - x / extent) + b[:, :, :, x] * (x / extent)`, in float32. */
function blendHorizontal(a: DecodedTile, b: DecodedTile, blendExtent: number): void {
  const extent = Math.min(a.width, b.width, blendExtent);
  const height = Math.min(a.height, b.height);
  for (let x = 0; x < extent; x++) {
    const keepA = Math.fround(1 - x / extent);
    const takeB = Math.fround(x / extent);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) {
        const at = (c * a.height + y) * a.width + a.width - extent + x;
        const bt = (c * b.height + y) * b.width + x;
        b.pixels[bt] = Math.fround(Math.fround(a.pixels[at]! * keepA) + Math.fround(b.pixels[bt]! * takeB));
      }
    }
  }
}
