import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { cropRgb, prepareInitImage, rgbToNchwMinusOneToOne } from '../../src/image/init-image.js';
import { sharp } from '../../src/image/sharp-instance.js';
import { fixturePath, loadJsonFixture } from '../helpers/fixtures.js';
import { buildBombPng, buildPng, ColourType } from './png-builder.js';

interface Img2imgCase {
  id: string;
  params: { width: number; height: number; input_image: string };
  img2img: { preprocessed_image_sha256_f32le: string; preprocessed_image_shape: number[] };
}

const a3 = loadJsonFixture<{ cases: Img2imgCase[] }>('pipeline-cases.json').cases.find((c) => c.id === 'A3-img2img-euler')!;
const inputPng = readFileSync(fixturePath('img2img-input-A.png'));
const limits = { maxPixels: 4096 * 4096, maxOutputPixels: 512 * 512, maxSide: 1024 };

function sha256F32le(values: Float32Array): string {
  return createHash('sha256')
    .update(Buffer.from(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex');
}

/** A picture whose every pixel is distinct: R = x, G = y, B = (x * 7 + y * 13) mod 256. */
function gradient(width: number, height: number): { png: Buffer; rgb: Uint8Array } {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rgb.set([x % 256, y % 256, (x * 7 + y * 13) % 256], (y * width + x) * 3);
  }
  return { png: buildPng({ width, height, bitDepth: 8, colourType: ColourType.rgb, samples: rgb }), rgb };
}

describe('prepareInitImage', () => {
  it('gives case A3 its preprocessed image bit for bit (sha256 of the float32 values)', async () => {
    assert.deepEqual(a3.img2img.preprocessed_image_shape, [1, 3, 64, 96]);
    for (const target of [undefined, { width: a3.params.width, height: a3.params.height }]) {
      const init = await prepareInitImage(inputPng, target, limits);
      assert.deepEqual(init.dims, [1, 3, 64, 96]);
      assert.deepEqual([init.width, init.height], [96, 64]);
      assert.equal(sha256F32le(init.pixels), a3.img2img.preprocessed_image_sha256_f32le);
    }
  });

  it('follows the rule x = v / 255 (float32), 2x - 1 (float32), NCHW', async () => {
    const raw = await sharp(inputPng).raw().toBuffer();
    const init = await prepareInitImage(inputPng, undefined, limits);
    const plane = 96 * 64;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const expected = Math.fround(2 * Math.fround(raw[p * 3 + c]! / 255) - 1);
        if (init.pixels[c * plane + p] !== expected) assert.fail(`pixel ${p} channel ${c}: ${init.pixels[c * plane + p]} != ${expected}`);
      }
    }
    assert.equal(
      rgbToNchwMinusOneToOne({ width: 1, height: 1, rgb: Uint8Array.of(0, 255, 128) })[2],
      Math.fround(2 * Math.fround(128 / 255) - 1),
    );
  });

  it('centre-crops without resampling when one side already matches (96x64 → 64x64)', async () => {
    const { png, rgb } = gradient(96, 64);
    const init = await prepareInitImage(png, { width: 64, height: 64 }, limits);
    const expected = rgbToNchwMinusOneToOne(cropRgb({ width: 96, height: 64, rgb }, { left: 16, top: 0, width: 64, height: 64 }));
    assert.deepEqual(init.dims, [1, 3, 64, 64]);
    assert.ok(
      init.pixels.every((v, i) => v === expected[i]),
      'not a pure centre crop',
    );
  });

  it('scales to cover and centre-crops to a non-square target (96x64 → 48x80, 128x128)', async () => {
    const { png } = gradient(96, 64);
    const tall = await prepareInitImage(png, { width: 48, height: 80 }, limits);
    assert.deepEqual(tall.dims, [1, 3, 80, 48]);
    assert.equal(tall.pixels.length, 3 * 80 * 48);
    // 96x64 scaled by 80/64 = 1.25 → 120x80, centre columns 36..83; red = x / 1.25 + 36 / 1.25 ≈ 28.8 at the left edge
    const leftRed = (tall.pixels[0]! + 1) * 127.5;
    assert.ok(Math.abs(leftRed - 28.8) < 2, `left edge red ${leftRed}`);
    const square = await prepareInitImage(png, { width: 128, height: 128 }, limits);
    assert.deepEqual(square.dims, [1, 3, 128, 128]);
    assert.ok(square.pixels.every((v) => v >= -1 && v <= 1));
  });

  it('resamples a landscape photo to the size limits, keeping its aspect ratio', async () => {
    const big = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: { r: 10, g: 200, b: 30 } } })
      .png()
      .toBuffer();
    const init = await prepareInitImage(big, undefined, limits);
    // sqrt(512² / 6e6) = 0.209 → 627x418 → multiples of 8
    assert.deepEqual(init.dims, [1, 3, 416, 624]);
    const expectedGreen = Math.fround(2 * Math.fround(200 / 255) - 1);
    assert.equal(init.pixels[416 * 624 + 1000], expectedGreen);
    const by64 = await prepareInitImage(big, undefined, { ...limits, multipleOf: 64 });
    assert.deepEqual(by64.dims, [1, 3, 384, 576]);
  });

  it('respects maxSide for a very wide picture and never goes below multipleOf', async () => {
    const wide = buildPng({
      width: 4000,
      height: 50,
      bitDepth: 8,
      colourType: ColourType.grey,
      samples: new Uint8Array(4000 * 50).fill(90),
    });
    assert.deepEqual((await prepareInitImage(wide, undefined, limits)).dims, [1, 3, 8, 1024]);
    const tiny = buildPng({ width: 5, height: 3, bitDepth: 8, colourType: ColourType.grey, samples: new Uint8Array(15).fill(90) });
    assert.deepEqual((await prepareInitImage(tiny, undefined, limits)).dims, [1, 3, 8, 8]);
  });

  it('crops a few pixels instead of resampling when the source is just off a multiple (100x70 → 96x64)', async () => {
    const { png, rgb } = gradient(100, 70);
    const init = await prepareInitImage(png, undefined, limits);
    assert.deepEqual(init.dims, [1, 3, 64, 96]);
    const expected = rgbToNchwMinusOneToOne(cropRgb({ width: 100, height: 70, rgb }, { left: 2, top: 3, width: 96, height: 64 }));
    assert.ok(
      init.pixels.every((v, i) => v === expected[i]),
      'not a pure centre crop',
    );
  });

  it('applies EXIF orientation before sizing', async () => {
    const jpeg = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 8 })
      .toBuffer();
    assert.deepEqual((await prepareInitImage(jpeg, undefined, limits)).dims, [1, 3, 96, 64]);
  });

  it('refuses what inspectImage refuses', async () => {
    await assert.rejects(
      prepareInitImage(buildBombPng(), undefined, limits),
      (e: unknown) => isUserError(e) && e.identifier === 'image.tooLarge',
    );
    await assert.rejects(
      prepareInitImage(Buffer.from('GIF89a'), undefined, limits),
      (e: unknown) => isUserError(e) && e.identifier === 'image.truncated',
    );
    await assert.rejects(
      prepareInitImage(Buffer.alloc(0), { width: 64, height: 64 }, limits),
      (e: unknown) => isUserError(e) && e.identifier === 'image.notAnImage',
    );
  });
});
