import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { decodeRgb } from '../../src/image/decode.js';
import { encodePng } from '../../src/image/encode-png.js';
import { listPngChunks, readPngText } from '../../src/image/png-chunks.js';
import { fixturePath } from '../helpers/fixtures.js';
import { buildPng, chunk, chunkTypes, ColourType } from './png-builder.js';

const limits = { maxPixels: 1024 * 1024 };

function sampleImage(width: number, height: number): { width: number; height: number; rgb: Uint8Array } {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + (i >> 5)) % 256;
  return { width, height, rgb };
}

describe('encodePng', () => {
  it('writes an 8-bit RGB PNG whose pixels decode back exactly (non-square)', async () => {
    const image = sampleImage(24, 10);
    const png = await encodePng(image, {});
    const ihdr = listPngChunks(png)[0]!;
    const ihdrData = Buffer.from(ihdr.data);
    assert.equal(ihdr.type, 'IHDR');
    assert.deepEqual([ihdrData.readUInt32BE(0), ihdrData.readUInt32BE(4), ihdrData[8], ihdrData[9]], [24, 10, 8, 2]);
    const { image: back } = await decodeRgb(png, limits);
    assert.deepEqual([back.width, back.height], [24, 10]);
    assert.ok(Buffer.from(back.rgb).equals(Buffer.from(image.rgb)));
  });

  it('writes Latin-1 text as tEXt right after IHDR, byte for byte as Pillow does', async () => {
    const parameters = 'a café, déjà vu\nSteps: 20, Sampler: Euler, CFG scale: 7.5, Seed: 42, Size: 24x10';
    const png = await encodePng(sampleImage(24, 10), { parameters });
    const types = chunkTypes(png);
    assert.deepEqual(types.slice(0, 2), ['IHDR', 'tEXt']);
    assert.equal(types.at(-1), 'IEND');
    const text = listPngChunks(png)[1]!;
    assert.ok(text.crcOk);
    assert.ok(Buffer.from(text.data).equals(Buffer.concat([Buffer.from('parameters\0', 'latin1'), Buffer.from(parameters, 'latin1')])));
    assert.deepEqual(readPngText(png), { parameters });
  });

  it('writes non-Latin-1 text as uncompressed iTXt (UTF-8) and reads it back', async () => {
    const parameters =
      '富士山の水彩画, 🌸 sakura\nNegative prompt: низкое качество\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8';
    const png = await encodePng(sampleImage(8, 8), { parameters, Software: 'latentcord' });
    assert.deepEqual(chunkTypes(png).slice(0, 3), ['IHDR', 'iTXt', 'tEXt']);
    const itxt = listPngChunks(png)[1]!;
    assert.ok(
      Buffer.from(itxt.data).equals(Buffer.concat([Buffer.from('parameters\0\0\0\0\0', 'latin1'), Buffer.from(parameters, 'utf8')])),
    );
    assert.ok(listPngChunks(png).every((c) => c.crcOk));
    assert.deepEqual(readPngText(png), { parameters, Software: 'latentcord' });
    const { image } = await decodeRgb(png, limits);
    assert.equal(image.width, 8);
  });

  it('refuses keys PNG cannot store and pixel buffers of the wrong size', async () => {
    await assert.rejects(encodePng(sampleImage(4, 4), { '': 'x' }), RangeError);
    await assert.rejects(encodePng(sampleImage(4, 4), { ['k'.repeat(80)]: 'x' }), RangeError);
    await assert.rejects(encodePng(sampleImage(4, 4), { ключ: 'x' }), RangeError);
    await assert.rejects(encodePng({ width: 4, height: 4, rgb: new Uint8Array(47) }, {}), RangeError);
  });
});

describe('readPngText', () => {
  const pixels = { width: 1, height: 1, bitDepth: 8 as const, colourType: ColourType.rgb, samples: [1, 2, 3] };

  it('reads zTXt and compressed iTXt, and lets a later chunk win', () => {
    const png = buildPng({
      ...pixels,
      extraChunks: [
        chunk('tEXt', Buffer.from('Comment\0first', 'latin1')),
        chunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.from('zipped ÿ', 'latin1'))])),
        chunk(
          'iTXt',
          Buffer.concat([Buffer.from('parameters\0\x01\0en\0Parameter\0', 'latin1'), deflateSync(Buffer.from('プロンプト', 'utf8'))]),
        ),
        chunk('tEXt', Buffer.from('Empty', 'latin1')),
      ],
    });
    assert.deepEqual(readPngText(png), { Comment: 'zipped ÿ', parameters: 'プロンプト', Empty: '' });
  });

  it('skips chunks with a bad CRC, invalid UTF-8 or a zip bomb', () => {
    const bad = chunk('tEXt', Buffer.from('Bad\0crc', 'latin1'));
    bad[bad.length - 1]! ^= 0xff;
    const png = buildPng({
      ...pixels,
      extraChunks: [
        bad,
        chunk('iTXt', Buffer.concat([Buffer.from('Broken\0\0\0\0\0', 'latin1'), Buffer.from([0xc3, 0x28])])),
        chunk('zTXt', Buffer.concat([Buffer.from('Bomb\0\0', 'latin1'), deflateSync(Buffer.alloc(2 * 1024 * 1024, 0x41))])),
        chunk('tEXt', Buffer.from('Good\0yes', 'latin1')),
      ],
    });
    assert.deepEqual(readPngText(png), { Good: 'yes' });
  });

  it('returns nothing for a PNG without text, a truncated PNG and non-PNG bytes', () => {
    assert.deepEqual(readPngText(readFileSync(fixturePath('img2img-input-A.png'))), {});
    assert.deepEqual(readPngText(Buffer.from('not a png at all')), {});
    const png = buildPng({ ...pixels, extraChunks: [chunk('tEXt', Buffer.from('Key\0value', 'latin1'))] });
    const textEnd = 8 + (12 + 13) + (12 + 'Key\0value'.length);
    assert.deepEqual(readPngText(png.subarray(0, textEnd)), { Key: 'value' });
    assert.deepEqual(readPngText(png.subarray(0, textEnd - 1)), {});
  });
});
