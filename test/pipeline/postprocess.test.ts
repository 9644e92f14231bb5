import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeRgb } from '../../src/image/decode.js';
import { imageToUint8Rgb, roundHalfToEven } from '../../src/pipeline/postprocess.js';
import { f32, fixturePath, loadJsonFixture, type FixtureTensor } from '../helpers/fixtures.js';

interface PipelineCase {
  id: string;
  decoded_image: FixtureTensor;
  output_png: string;
  output_uint8_sha256: string;
}

const cases = loadJsonFixture<{ cases: PipelineCase[] }>('pipeline-cases.json').cases;
const limits = { maxPixels: 4096 * 4096 };

describe('imageToUint8Rgb (diffusers postprocess)', () => {
  it('has all six pipeline cases', () => assert.equal(cases.length, 6));

  for (const c of cases) {
    it(`${c.id}: decoded_image gives the fixture PNG's bytes exactly`, async () => {
      const [, , height, width] = c.decoded_image.shape as [number, number, number, number];
      const rgb = imageToUint8Rgb(f32(c.decoded_image), c.decoded_image.shape, 0);
      assert.equal(rgb.length, width * height * 3);
      assert.equal(createHash('sha256').update(rgb).digest('hex'), c.output_uint8_sha256);
      const { image } = await decodeRgb(readFileSync(fixturePath(c.output_png)), limits);
      assert.deepEqual([image.width, image.height], [width, height]);
      assert.ok(Buffer.from(image.rgb).equals(Buffer.from(rgb)), 'pixels differ from the fixture PNG');
    });
  }

  it('picks the requested picture of a batch and keeps height and width apart', () => {
    const height = 2;
    const width = 3;
    const plane = height * width;
    const decoded = new Float32Array(2 * 3 * plane);
    // picture 1: red = -1, green = 0, blue ramps over x; every other value is 1
    decoded.fill(1);
    const base = 3 * plane;
    for (let p = 0; p < plane; p++) {
      decoded[base + p] = -1;
      decoded[base + plane + p] = 0;
      decoded[base + 2 * plane + p] = (p % width) / 2 - 0.5;
    }
    const rgb = imageToUint8Rgb(decoded, [2, 3, height, width], 1);
    // x = 0: 0 → 0.25 → 63.75 → 64; x = 1: 0 → 0.5 → 127.5 → 128 (tie to even); x = 2: 0.5 → 0.75 → 191.25 → 191
    assert.deepEqual([...rgb], [0, 128, 64, 0, 128, 128, 0, 128, 191, 0, 128, 64, 0, 128, 128, 0, 128, 191]);
    assert.deepEqual([...imageToUint8Rgb(decoded, [2, 3, height, width], 0)], new Array(18).fill(255));
  });

  it('clamps out-of-range values and maps NaN to 0', () => {
    const rgb = imageToUint8Rgb(Float32Array.of(-7, 3, Number.NaN), [1, 3, 1, 1]);
    assert.deepEqual([...rgb], [0, 255, 0]);
  });

  it('rounds exact float32 ties to even, as numpy does (Math.round would not)', () => {
    // Find a float32 y in [0.5, 1] with y * 255 rounding to exactly 128.5 in float32; x = 2 (y - 0.5) maps to it.
    let y = Math.fround(128.5 / 255);
    const ulp = 2 ** -24;
    for (let k = -64; k <= 64 && Math.fround(y * 255) !== 128.5; k++) y = Math.fround(128.5 / 255 + k * ulp);
    assert.equal(Math.fround(y * 255), 128.5);
    const x = 2 * (y - 0.5);
    assert.equal(Math.fround(Math.fround(x * 0.5) + 0.5), y);
    assert.deepEqual([...imageToUint8Rgb(Float32Array.of(x, x, x), [1, 3, 1, 1])], [128, 128, 128]);
    assert.equal(Math.round(128.5), 129);
  });

  it('roundHalfToEven matches numpy on ties and non-ties', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, 254.5, 2.4999, 2.5001, 7].map(roundHalfToEven), [0, 2, 2, 4, 254, 2, 3, 7]);
  });

  it('refuses inconsistent shapes and indices', () => {
    assert.throws(() => imageToUint8Rgb(new Float32Array(12), [1, 4, 1, 3]), RangeError);
    assert.throws(() => imageToUint8Rgb(new Float32Array(11), [1, 3, 2, 2]), RangeError);
    assert.throws(() => imageToUint8Rgb(new Float32Array(12), [1, 3, 2, 2], 1), RangeError);
  });
});
