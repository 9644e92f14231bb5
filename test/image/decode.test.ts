import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { decodeRgb } from '../../src/image/decode.js';
import { inspectImage } from '../../src/image/inspect.js';
import { sharp } from '../../src/image/sharp-instance.js';
import { fixturePath } from '../helpers/fixtures.js';
import { buildBombPng, buildPng, ColourType } from './png-builder.js';

const limits = { maxPixels: 1024 * 1024 };
const inputPng = readFileSync(fixturePath('img2img-input-A.png'));

/** Asserts that `promise` rejects with a UserError of `identifier` whose message is for humans. */
async function rejectsWith(promise: Promise<unknown>, identifier: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    assert.equal(error.identifier, identifier);
    assert.ok(error.message.length > 20 && !/vips|libpng|sharp/i.test(error.message), `message not for humans: ${error.message}`);
    return true;
  });
}

/** A 64x32 picture: left half red, right half blue. */
function halves(): Buffer {
  const samples: number[] = [];
  for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) samples.push(...(x < 32 ? [255, 0, 0] : [0, 0, 255]));
  return buildPng({ width: 64, height: 32, bitDepth: 8, colourType: ColourType.rgb, samples });
}

function pixel(image: { width: number; rgb: Uint8Array }, x: number, y: number): number[] {
  const at = (y * image.width + x) * 3;
  return [...image.rgb.subarray(at, at + 3)];
}

function near(actual: number[], expected: number[], tolerance: number): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
}

describe('inspectImage', () => {
  it('reports format, size and frame count of the fixture picture', async () => {
    assert.deepEqual(await inspectImage(inputPng, limits), { format: 'png', width: 96, height: 64, pages: 1 });
  });

  it('recognises JPEG, WebP, GIF and AVIF', async () => {
    for (const format of ['jpeg', 'webp', 'gif', 'avif'] as const) {
      const bytes = await sharp(inputPng).toFormat(format).toBuffer();
      assert.deepEqual(await inspectImage(bytes, limits), { format, width: 96, height: 64, pages: 1 }, format);
    }
  });

  it('refuses a decompression bomb (60000x60000 declared in a tiny PNG) from its header', async () => {
    const bomb = buildBombPng(60000, 60000);
    assert.ok(bomb.length < 200);
    await rejectsWith(inspectImage(bomb, limits), 'image.tooLarge');
    await rejectsWith(decodeRgb(bomb, limits), 'image.tooLarge');
  });

  it('refuses a picture one pixel over the limit and accepts one at the limit', async () => {
    const png = buildPng({ width: 10, height: 10, bitDepth: 8, colourType: ColourType.grey, samples: new Array(100).fill(7) });
    await rejectsWith(inspectImage(png, { maxPixels: 99 }), 'image.tooLarge');
    assert.equal((await inspectImage(png, { maxPixels: 100 })).width, 10);
  });

  it('refuses empty, random and text bytes (whatever the file is called)', async () => {
    await rejectsWith(inspectImage(new Uint8Array(0), limits), 'image.notAnImage');
    await rejectsWith(inspectImage(randomBytes(4096), limits), 'image.notAnImage');
    await rejectsWith(inspectImage(Buffer.from('this is a text file saved as picture.png\n'), limits), 'image.notAnImage');
  });

  it('refuses other picture formats as unsupported without decoding them', async () => {
    await rejectsWith(inspectImage(await sharp(inputPng).tiff().toBuffer(), limits), 'image.unsupported');
    await rejectsWith(
      inspectImage(Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'), limits),
      'image.unsupported',
    );
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1')]);
    await rejectsWith(inspectImage(heic, limits), 'image.unsupported');
    await rejectsWith(inspectImage(Buffer.from('BM' + '\0'.repeat(60), 'latin1'), limits), 'image.unsupported');
  });

  it('uses a sharp whose loaders for other formats are blocked', async () => {
    const tiff = await sharp(inputPng).tiff().toBuffer();
    assert.equal((await sharp(inputPng).metadata()).format, 'png');
    await assert.rejects(sharp(tiff).metadata());
    await assert.rejects(sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')).metadata());
  });

  it('refuses a PNG signature followed by junk', async () => {
    await rejectsWith(inspectImage(Buffer.concat([inputPng.subarray(0, 8), randomBytes(100)]), limits), 'image.truncated');
  });
});

describe('decodeRgb', () => {
  it('decodes the fixture PNG to its exact bytes', async () => {
    const { info, image } = await decodeRgb(inputPng, limits);
    assert.equal(info.format, 'png');
    const expected = await sharp(inputPng).raw().toBuffer();
    assert.ok(Buffer.from(image.rgb).equals(expected));
  });

  it('refuses a truncated PNG instead of decoding garbage', async () => {
    const big = await sharp(randomBytes(200 * 150 * 3), { raw: { width: 200, height: 150, channels: 3 } })
      .png()
      .toBuffer();
    for (const keep of [0.3, 0.6, 0.95]) {
      const cut = big.subarray(0, Math.floor(big.length * keep));
      assert.deepEqual(await inspectImage(cut, limits), { format: 'png', width: 200, height: 150, pages: 1 });
      await rejectsWith(decodeRgb(cut, limits), 'image.truncated');
    }
  });

  it('refuses a truncated JPEG instead of decoding garbage', async () => {
    const jpeg = await sharp(randomBytes(200 * 150 * 3), { raw: { width: 200, height: 150, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    for (const keep of [0.3, 0.6, 0.95])
      await rejectsWith(decodeRgb(jpeg.subarray(0, Math.floor(jpeg.length * keep)), limits), 'image.truncated');
  });

  it('applies the EXIF orientation of a JPEG', async () => {
    // Orientation 6: the stored picture must be turned 90° clockwise for display, so its left half ends on top.
    const jpeg = await sharp(halves()).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    assert.equal((await sharp(jpeg).metadata()).orientation, 6);
    assert.deepEqual(await inspectImage(jpeg, limits), { format: 'jpeg', width: 32, height: 64, pages: 1 });
    const { image } = await decodeRgb(jpeg, limits);
    assert.deepEqual([image.width, image.height], [32, 64]);
    assert.ok(near(pixel(image, 16, 8), [255, 0, 0], 8), `top is ${pixel(image, 16, 8)}`);
    assert.ok(near(pixel(image, 16, 56), [0, 0, 255], 8), `bottom is ${pixel(image, 16, 56)}`);
  });

  it('composites RGBA on white', async () => {
    const samples = [255, 0, 0, 0, /**/ 0, 255, 0, 128, /**/ 0, 0, 255, 255, /**/ 10, 20, 30, 51];
    const { image } = await decodeRgb(buildPng({ width: 2, height: 2, bitDepth: 8, colourType: ColourType.rgba, samples }), limits);
    // c * a / 255 + 255 * (1 - a / 255): 128 → 127/127.5, 51 → 0.2 of the colour plus 204
    assert.deepEqual([...image.rgb], [255, 255, 255, 127, 255, 127, 0, 0, 255, 206, 208, 210]);
  });

  it('expands grey and grey+alpha to RGB', async () => {
    const grey = await decodeRgb(
      buildPng({ width: 2, height: 2, bitDepth: 8, colourType: ColourType.grey, samples: [0, 50, 100, 255] }),
      limits,
    );
    assert.deepEqual([...grey.image.rgb], [0, 0, 0, 50, 50, 50, 100, 100, 100, 255, 255, 255]);
    const greyAlpha = await decodeRgb(
      buildPng({ width: 2, height: 1, bitDepth: 8, colourType: ColourType.greyAlpha, samples: [100, 0, 100, 255] }),
      limits,
    );
    assert.deepEqual([...greyAlpha.image.rgb], [255, 255, 255, 100, 100, 100]);
  });

  it('reduces a 16-bit PNG to 8 bits by keeping the high byte (as Pillow does)', async () => {
    const samples = [0xffff, 0x7fff, 0x00ff, 0x8000, 0x0100, 0xfeff];
    const { image } = await decodeRgb(buildPng({ width: 2, height: 1, bitDepth: 16, colourType: ColourType.rgb, samples }), limits);
    assert.deepEqual(
      [...image.rgb],
      samples.map((v) => v >> 8),
    );
  });

  it('uses the first frame of an animated GIF', async () => {
    const frames = Buffer.alloc(16 * 16 * 3 * 3);
    frames.fill(200, 0, 768);
    frames.fill(40, 768, 1536);
    frames.fill(120, 1536);
    const gif = await sharp(frames, { raw: { width: 16, height: 48, channels: 3, pageHeight: 16 } })
      .gif()
      .toBuffer();
    assert.deepEqual(await inspectImage(gif, limits), { format: 'gif', width: 16, height: 16, pages: 3 });
    const { image } = await decodeRgb(gif, limits);
    assert.deepEqual([image.width, image.height], [16, 16]);
    assert.ok(
      image.rgb.every((v) => v === 200),
      'not the first frame',
    );
  });
});
