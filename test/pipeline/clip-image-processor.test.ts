import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import {
  clipPixelValues,
  parseClipImageProcessorConfig,
  resizedSize,
  type ClipImageProcessorConfig,
} from '../../src/pipeline/components/clip-image-processor.js';
import { resizeRgb, type PilFilter } from '../../src/pipeline/components/pil-resize.js';
import { repoRoot } from '../helpers/fixtures.js';
import { sdPreprocessorConfig } from '../support/onnx/safety-checker-graphs.js';

/** The formula pil-resize-crosscheck.py draws its input pictures with. */
function picture(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = (x * x * 3 + y * 7 + c * 85 + ((x * 31) ^ (y * 17))) % 256;
  return rgb;
}

function uniform(width: number, height: number, value: number): Uint8Array {
  return new Uint8Array(width * height * 3).fill(value);
}

const crosscheck = JSON.parse(readFileSync(join(repoRoot, 'test', 'pipeline', 'pil-resize-crosscheck.json'), 'utf8')) as {
  resize: { filter: PilFilter; width: number; height: number; outWidth: number; outHeight: number; rgb: number[] }[];
  resizeToClip: { width: number; height: number; outWidth: number; outHeight: number; sha256: string }[];
  clip: { width: number; height: number; shortestEdge: number; crop: number; pixelValues: number[] }[];
  clipFull: { width: number; height: number; shortestEdge: number; crop: number; sha256: string };
};

const sdConfig = parseClipImageProcessorConfig(sdPreprocessorConfig, 'preprocessor_config.json');

describe('CLIPImageProcessor config', () => {
  it("reads Stable Diffusion's feature extractor config (plain numbers for size and crop)", () => {
    assert.deepEqual(sdConfig, {
      doResize: true,
      size: { shortestEdge: 224 },
      resample: 'bicubic',
      doCenterCrop: true,
      cropSize: { height: 224, width: 224 },
      doRescale: true,
      rescaleFactor: 1 / 255,
      doNormalize: true,
      imageMean: [0.48145466, 0.4578275, 0.40821073],
      imageStd: [0.26862954, 0.26130258, 0.27577711],
    });
  });

  it('reads the newer object form and falls back to transformers defaults', () => {
    const config = parseClipImageProcessorConfig(
      { size: { shortest_edge: 256 }, crop_size: { height: 240, width: 200 }, resample: 2, do_rescale: false },
      'x.json',
    );
    assert.deepEqual(config.size, { shortestEdge: 256 });
    assert.deepEqual(config.cropSize, { height: 240, width: 200 });
    assert.equal(config.resample, 'bilinear');
    assert.equal(config.doRescale, false);
    assert.deepEqual(parseClipImageProcessorConfig({}, 'x.json'), sdConfig);
    assert.deepEqual(parseClipImageProcessorConfig({ size: { height: 100, width: 50 } }, 'x.json').size, { height: 100, width: 50 });
  });

  for (const [json, key] of [
    [{ size: 'big' }, 'size'],
    [{ crop_size: { height: 0, width: 3 } }, 'crop_size'],
    [{ resample: 9 }, 'resample'],
    [{ image_std: [1, 0, 1] }, 'image_std'],
    [{ image_mean: [1, 2] }, 'image_mean'],
    [{ do_normalize: 'yes' }, 'do_normalize'],
  ] as const) {
    it(`names a bad \`${key}\``, () => {
      assert.throws(
        () => parseClipImageProcessorConfig(json as Record<string, unknown>, 'feature_extractor/preprocessor_config.json'),
        (error: unknown) =>
          isUserError(error) &&
          error.identifier === 'model.badConfig' &&
          error.message.includes(`\`${key}\``) &&
          error.message.includes('preprocessor_config.json'),
      );
    });
  }
});

describe('CLIP preprocessing', () => {
  it('resizes the shortest edge to 224, the other in proportion, truncated', () => {
    assert.deepEqual(resizedSize(512, 512, { shortestEdge: 224 }), { width: 224, height: 224 });
    assert.deepEqual(resizedSize(768, 512, { shortestEdge: 224 }), { width: 336, height: 224 });
    assert.deepEqual(resizedSize(512, 640, { shortestEdge: 224 }), { width: 224, height: 280 });
    assert.deepEqual(resizedSize(512, 680, { shortestEdge: 224 }), { width: 224, height: 297 }, '297.5 truncates');
    assert.deepEqual(resizedSize(640, 480, { height: 10, width: 20 }), { width: 20, height: 10 });
  });

  // Hand-computed: a uniform picture stays uniform through resize and crop; then (v/255 - mean) / std per channel.
  const handComputed: [string, number, [number, number, number]][] = [
    ['black', 0, [-1.7922626, -1.7520971, -1.4802198]],
    ['white', 255, [1.9303361, 2.0748837, 2.1458969]],
    ['mid grey 128', 128, [0.0763361, 0.1688973, 0.3399488]],
  ];
  for (const [name, value, expected] of handComputed) {
    for (const [width, height] of [
      [512, 512],
      [768, 512],
    ] as const) {
      it(`a ${name} ${width}x${height} picture gives [1, 3, 224, 224] with every value of channel c = (${value}/255 − mean_c) / std_c`, () => {
        const { data, dims } = clipPixelValues({ rgb: uniform(width, height, value), width, height }, sdConfig);
        assert.deepEqual(dims, [1, 3, 224, 224]);
        for (let c = 0; c < 3; c++) {
          const channel = data.subarray(c * 224 * 224, (c + 1) * 224 * 224);
          assert.ok(
            channel.every((v) => Math.abs(v - expected[c]!) < 1e-6),
            `channel ${c}: ${channel[0]} … expected ${expected[c]}`,
          );
        }
      });
    }
  }

  it('centre-crops at ((h − ch) // 2, (w − cw) // 2) and lays channels first', () => {
    // A 6x4 picture whose pixel value names its column; resize off, crop 3x2, no rescale or normalisation.
    const rgb = new Uint8Array(6 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) rgb.set([x, 10 + y, 100], (y * 6 + x) * 3);
    const config: ClipImageProcessorConfig = {
      ...sdConfig,
      doResize: false,
      cropSize: { height: 2, width: 3 },
      doRescale: false,
      doNormalize: false,
    };
    const { data, dims } = clipPixelValues({ rgb, width: 6, height: 4 }, config);
    assert.deepEqual(dims, [1, 3, 2, 3]);
    assert.deepEqual([...data], [1, 2, 3, 1, 2, 3, 11, 11, 11, 12, 12, 12, 100, 100, 100, 100, 100, 100]);
  });

  it('pads a picture smaller than the crop with zeros, centred', () => {
    const config: ClipImageProcessorConfig = {
      ...sdConfig,
      doResize: false,
      cropSize: { height: 3, width: 4 },
      doRescale: false,
      doNormalize: false,
    };
    const { data } = clipPixelValues({ rgb: uniform(1, 1, 9), width: 1, height: 1 }, config);
    // New 3x4 canvas, the pixel at top = ceil(2/2) = 1, left = ceil(3/2) = 2.
    assert.deepEqual([...data.subarray(0, 12)], [0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0]);
  });
});

describe("Pillow's resize, against Pillow itself (pil-resize-crosscheck.json)", () => {
  for (const c of crosscheck.resize) {
    it(`${c.filter} ${c.width}x${c.height} → ${c.outWidth}x${c.outHeight}, byte for byte`, () => {
      const out = resizeRgb(picture(c.width, c.height), c.width, c.height, c.outWidth, c.outHeight, c.filter);
      assert.deepEqual([...out], c.rgb);
    });
  }
  for (const c of crosscheck.resizeToClip) {
    it(`bicubic ${c.width}x${c.height} → ${c.outWidth}x${c.outHeight} (a picture to the checker's size), byte for byte`, () => {
      const out = resizeRgb(picture(c.width, c.height), c.width, c.height, c.outWidth, c.outHeight, 'bicubic');
      assert.equal(createHash('sha256').update(out).digest('hex'), c.sha256);
    });
  }
  for (const c of crosscheck.clip) {
    it(`pixel values of a ${c.width}x${c.height} picture (shortest edge ${c.shortestEdge}, crop ${c.crop}) equal numpy's float32`, () => {
      const config = { ...sdConfig, size: { shortestEdge: c.shortestEdge }, cropSize: { height: c.crop, width: c.crop } };
      const { data } = clipPixelValues({ rgb: picture(c.width, c.height), width: c.width, height: c.height }, config);
      assert.deepEqual([...data], c.pixelValues);
    });
  }
  it('pixel values of a 768x512 picture with the Stable Diffusion config, bit for bit', () => {
    const { width, height, sha256 } = crosscheck.clipFull;
    const { data } = clipPixelValues({ rgb: picture(width, height), width, height }, sdConfig);
    assert.equal(
      createHash('sha256')
        .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        .digest('hex'),
      sha256,
    );
  });
});
