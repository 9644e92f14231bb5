import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { encodePreviewJpeg, previewLongSide } from '../../src/image/index.js';

/** A `width`×`height` picture of one colour. */
function solid(width: number, height: number, [r, g, b]: readonly [number, number, number]) {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb.set([r, g, b], i);
  return { width, height, rgb };
}

/** The colour at (x, y) of a decoded JPEG. */
async function pixelAt(jpeg: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

function near(actual: number[], expected: readonly number[], tolerance = 6): void {
  assert.ok(
    actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance),
    `${actual.join(',')} is not near ${expected.join(',')}`,
  );
}

describe('encodePreviewJpeg', () => {
  it('scales a 1/8-size linear preview up to the picture’s size, at most previewLongSide on its longest side', async () => {
    const jpeg = await encodePreviewJpeg([solid(12, 8, [200, 40, 10])], { width: 96, height: 64 });
    const meta = await sharp(jpeg).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 96, 64]);
    near(await pixelAt(jpeg, 48, 32), [200, 40, 10]);

    const large = await sharp(await encodePreviewJpeg([solid(96, 64, [0, 0, 0])], { width: 768, height: 512 })).metadata();
    assert.deepEqual([large.width, large.height], [previewLongSide, 256]);
  });

  it('puts several pictures of a job in a grid of two columns, in order', async () => {
    const colours = [
      [250, 0, 0],
      [0, 250, 0],
      [0, 0, 250],
    ] as const;
    const jpeg = await encodePreviewJpeg(
      colours.map((c) => solid(8, 8, c)),
      { width: 64, height: 64 },
    );
    const meta = await sharp(jpeg).metadata();
    assert.deepEqual([meta.width, meta.height], [128, 128]);
    near(await pixelAt(jpeg, 32, 32), colours[0]);
    near(await pixelAt(jpeg, 96, 32), colours[1]);
    near(await pixelAt(jpeg, 32, 96), colours[2]);
    near(await pixelAt(jpeg, 96, 96), [0, 0, 0]);
  });

  it('refuses malformed input', async () => {
    await assert.rejects(encodePreviewJpeg([], { width: 64, height: 64 }), RangeError);
    await assert.rejects(encodePreviewJpeg([{ width: 8, height: 8, rgb: new Uint8Array(5) }], { width: 64, height: 64 }), RangeError);
  });
});
