import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approximateLatentPreview, latentFamilyOf, latentRgbFactors } from '../../src/pipeline/components/latent-preview.js';

/** `[rows, 4, height, width]` latents from per-pixel channel vectors, row-major pixels. */
function latentsOf(rows: number, height: number, width: number, pixels: readonly (readonly number[])[]): Float32Array {
  const plane = height * width;
  const out = new Float32Array(rows * 4 * plane);
  pixels.forEach((channels, index) => {
    const row = Math.floor(index / plane);
    const p = index % plane;
    channels.forEach((value, c) => (out[(row * 4 + c) * plane + p] = value));
  });
  return out;
}

describe('approximateLatentPreview (A1111 "Approx cheap")', () => {
  it('maps each latent cell through the SD 1.x/2.x matrix, then x·0.5 + 0.5, ×255, truncated', () => {
    const latents = latentsOf(1, 1, 2, [
      [1, 0, 0, 0],
      [0, 0, 0, -2],
    ]);
    const preview = approximateLatentPreview(latents, [1, 4, 1, 2], 0);
    assert.deepEqual([preview.width, preview.height], [2, 1]);
    // cell 0: (0.298, 0.207, 0.208) → (0.649, 0.6035, 0.604) × 255 = (165.495, 153.89, 154.02)
    // cell 1: −2 × (−0.184, −0.271, −0.473) = (0.368, 0.542, 0.946) → (0.684, 0.771, 0.973) × 255 = (174.42, 196.61, 248.12)
    assert.deepEqual([...preview.rgb], [165, 153, 154, 174, 196, 248]);
  });

  it('sums all four channels', () => {
    // (0.5, 0.5, 0.5, 0.5): R = 0.5 × (0.298 + 0.187 − 0.158 − 0.184) = 0.0715 → 0.53575 → 136.62
    //                     G = 0.5 × (0.207 + 0.286 + 0.189 − 0.271) = 0.2055 → 0.60275 → 153.70
    //                     B = 0.5 × (0.208 + 0.173 + 0.264 − 0.473) = 0.086 → 0.543 → 138.47
    const preview = approximateLatentPreview(latentsOf(1, 1, 1, [[0.5, 0.5, 0.5, 0.5]]), [1, 4, 1, 1], 0);
    assert.deepEqual([...preview.rgb], [136, 153, 138]);
  });

  it('clamps to 0–255 and maps NaN to black', () => {
    const latents = latentsOf(1, 1, 3, [
      [10, 10, 10, 0],
      [0, 0, 0, 10],
      [Number.NaN, 0, 0, 0],
    ]);
    assert.deepEqual([...approximateLatentPreview(latents, [1, 4, 1, 3], 0).rgb], [255, 255, 255, 0, 0, 0, 0, 0, 0]);
  });

  it('uses SDXL coefficients when asked', () => {
    // (0, 1, 0, 0) → (−0.1953, −0.029, 0.025) → (0.40235, 0.4855, 0.5125) × 255 = (102.60, 123.80, 130.69)
    const preview = approximateLatentPreview(latentsOf(1, 1, 1, [[0, 1, 0, 0]]), [1, 4, 1, 1], 0, latentRgbFactors.sdxl);
    assert.deepEqual([...preview.rgb], [102, 123, 130]);
  });

  it('picks the requested row of a batch and keeps height and width apart', () => {
    const zero = [0, 0, 0, 0];
    const one = [1, 0, 0, 0];
    // row 0: all zero; row 1 (2 high, 3 wide): channel 0 = 1 only at (y 1, x 2)
    const latents = latentsOf(2, 2, 3, [zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, one]);
    const preview = approximateLatentPreview(latents, [2, 4, 2, 3], 1);
    assert.deepEqual([preview.width, preview.height], [3, 2]);
    const grey = [127, 127, 127];
    assert.deepEqual([...preview.rgb], [...grey, ...grey, ...grey, ...grey, ...grey, 165, 153, 154]);
    assert.deepEqual([...approximateLatentPreview(latents, [2, 4, 2, 3], 0).rgb], new Array(18).fill(127));
  });

  it('refuses a wrong shape or row', () => {
    assert.throws(() => approximateLatentPreview(new Float32Array(12), [1, 3, 2, 2], 0), /4 latent channels/);
    assert.throws(() => approximateLatentPreview(new Float32Array(15), [1, 4, 2, 2], 0), /16 latent values/);
    assert.throws(() => approximateLatentPreview(new Float32Array(16), [1, 4, 2, 2], 1), /from 0 to 0/);
  });
});

describe('latentFamilyOf', () => {
  it('tells SDXL folders from SD 1.x/2.x ones by their model_index.json', () => {
    assert.equal(latentFamilyOf({ _class_name: 'OnnxStableDiffusionPipeline', text_encoder: ['transformers', 'CLIPTextModel'] }), 'sd');
    assert.equal(latentFamilyOf({ _class_name: 'ORTStableDiffusionXLPipeline' }), 'sdxl');
    assert.equal(latentFamilyOf({ _class_name: 'SomePipeline', text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] }), 'sdxl');
  });
});
