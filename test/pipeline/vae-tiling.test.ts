import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTiled, needsTiling, type VaeTiling } from '../../src/pipeline/components/vae-tiling.js';

/** Tiles of 8 latent cells (SD's VAE uses 64): stride 6, blend extent 16 pixels, 48 pixels kept per tile. */
const tiling: VaeTiling = { tileLatentSize: 8, overlapFactor: 0.25, scaleFactor: 8 };

/** A "decoder" that paints each tile one flat value per call, 0, 1, 2, … in call order; records the tile sizes. */
function flatTiles(): { decode: (latents: Float32Array, h: number, w: number) => Promise<Float32Array>; calls: [number, number][] } {
  const calls: [number, number][] = [];
  return {
    calls,
    decode: async (_latents, h, w) => {
      calls.push([h, w]);
      return new Float32Array(3 * h * 8 * w * 8).fill(calls.length - 1);
    },
  };
}

/** A decoder that only looks at each latent cell (nearest ×8 of channels 0–2): tiling must not change its picture. */
async function nearestDecoder(latents: Float32Array, h: number, w: number): Promise<Float32Array> {
  const out = new Float32Array(3 * 64 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 8 * h; y++)
      for (let x = 0; x < 8 * w; x++) out[(c * 8 * h + y) * 8 * w + x] = latents[(c * h + (y >> 3)) * w + (x >> 3)]!;
  return out;
}

function pixel(image: Float32Array, height: number, width: number, c: number, y: number, x: number): number {
  return image[(c * height + y) * width + x]!;
}

describe('decodeTiled (diffusers AutoencoderKL.tiled_decode)', () => {
  it('tiles only when a latent side exceeds the tile (diffusers rule)', () => {
    assert.equal(needsTiling(8, 8, tiling), false);
    assert.equal(needsTiling(8, 9, tiling), true);
    assert.equal(needsTiling(9, 4, tiling), true);
  });

  it('starts a tile every 6 cells, blends the left neighbour linearly over 16 pixels and keeps 48 pixels per tile', async () => {
    const { decode, calls } = flatTiles();
    // 6 cells high: one row of tiles (8 high would start a second row at 6, as in diffusers);
    // 14 cells wide: tiles at 0, 6, 12 → 8, 8 and 2 cells wide
    const out = await decodeTiled(new Float32Array(4 * 6 * 14), 4, 6, 14, tiling, decode);
    assert.deepEqual(calls, [
      [6, 8],
      [6, 8],
      [6, 2],
    ]);
    assert.equal(out.length, 3 * 48 * 112);
    const at = (x: number) => pixel(out, 48, 112, 1, 10, x);
    // tile 0 keeps its columns 0–47 (value 0)
    assert.equal(at(0), 0);
    assert.equal(at(47), 0);
    // tile 1 (value 1) blended with tile 0's last 16 columns: x/16 for its first 16 columns, then 1
    assert.equal(at(48), 0);
    assert.equal(at(52), 4 / 16);
    assert.equal(at(63), 15 / 16);
    assert.equal(at(64), 1);
    assert.equal(at(95), 1);
    // tile 2 (value 2, 16 pixels wide) blended with tile 1: 1 · (1 − x/16) + 2 · x/16
    assert.equal(at(96), 1);
    assert.equal(at(104), 1.5);
    assert.equal(at(111), 1 + 15 / 16);
  });

  it('blends the tile above over 16 rows, then the left one, in place and in that order', async () => {
    const { decode, calls } = flatTiles();
    // 2 × 2 tiles: rows of tiles at 0 and 6 (8 and 4 cells high), columns at 0 and 6 (8 and 4 wide)
    const out = await decodeTiled(new Float32Array(4 * 10 * 10), 4, 10, 10, tiling, decode);
    assert.deepEqual(calls, [
      [8, 8],
      [8, 4],
      [4, 8],
      [4, 4],
    ]);
    const at = (y: number, x: number) => pixel(out, 80, 80, 0, y, x);
    // top row: tile 0 (0), tile 1 (1) ramps in over columns 48–63
    assert.equal(at(0, 0), 0);
    assert.equal(at(0, 56), 0.5);
    assert.equal(at(0, 79), 1);
    // bottom-left tile 2 (value 2) blended with tile 0 above: 0 · (1 − y/16) + 2 · y/16
    assert.equal(at(48, 0), 0);
    assert.equal(at(56, 0), 1);
    assert.equal(at(64, 0), 2);
    // bottom-right tile 3 (value 3): first with tile 1 above (as blended with tile 0), then with tile 2 on the left
    // (as blended with tile 0). At its row 8, column 8: above = tile 1 at its row 56, column 8 = 8/16 → 0.5 · 0.5 + 3 · 0.5
    // = 1.75; left = tile 2 at its row 8, column 56 = 2 · 8/16 = 1 → 1 · 0.5 + 1.75 · 0.5 = 1.375.
    assert.equal(at(56, 56), 1.375);
    // row 0 of tile 3, column 0 of the overlap: above = tile 1 row 48 (1) → 1; left = tile 2 (row 0: 0·1 + 2·0 = 0) at column 48 → 0·1 + 1·0 = 0
    assert.equal(at(48, 48), 0);
    assert.equal(at(79, 79), 3);
  });

  it('leaves a local decoder’s picture unchanged (non-square, ragged last tiles)', async () => {
    const height = 13;
    const width = 22;
    const latents = new Float32Array(4 * height * width).map((_, i) => Math.sin(i * 0.37));
    const direct = await nearestDecoder(latents, height, width);
    const tiled = await decodeTiled(latents, 4, height, width, tiling, nearestDecoder);
    assert.equal(tiled.length, direct.length);
    let worst = 0;
    for (let i = 0; i < direct.length; i++) worst = Math.max(worst, Math.abs(tiled[i]! - direct[i]!));
    assert.ok(worst < 1e-6, `largest difference ${worst}`);
  });
});
