import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRgb, parseInfotext, readPngText } from '../../src/image/index.js';
import { infotextFor, renderPngs, rerecordPngs, type OutputContext } from '../../src/jobs/png-output.js';
import type { EmphasisMode } from '../../src/pipeline/stable-diffusion.js';
import type { JobSpec } from '../../src/store/index.js';

const base: JobSpec = {
  kind: 'imagine',
  prompt: '(masterpiece:1.2), a [red] fox BREAK snow',
  negativePrompt: '(worst quality:1.4)',
  emphasis: 'original',
  maxPromptTokens: 225,
  steps: 20,
  guidance: 7,
  width: 64,
  height: 64,
  scheduler: 'euler',
  count: 1,
  seed: '42',
  strength: 0.7,
  sourceImageUrl: null,
};
const image = { width: 64, height: 64 };
const output: OutputContext = { rng: 'cpu', modelName: 'tiny-sd' };
const reading = (emphasis: EmphasisMode): JobSpec => ({ ...base, emphasis });

describe('PNG parameters and emphasis', () => {
  it('keeps weighted prompts verbatim, so PNG Info reads them back unchanged', () => {
    const parsed = parseInfotext(infotextFor(base, output, image, 0, 1));
    assert.equal(parsed.prompt, base.prompt);
    assert.equal(parsed.negativePrompt, base.negativePrompt);
    assert.equal(parsed.extra['Emphasis'], undefined, "A1111's default mode is not written");
  });

  it("records a non-default mode under A1111's name when a prompt has a bracket, as A1111 does", () => {
    assert.equal(parseInfotext(infotextFor(reading('no-norm'), output, image, 0, 1)).extra['Emphasis'], 'No norm');
    assert.equal(parseInfotext(infotextFor(reading('off'), output, image, 0, 1)).extra['Emphasis'], 'None');
    assert.match(infotextFor(reading('no-norm'), output, image, 0, 1), /, RNG: CPU, Emphasis: No norm$/);
    const plain = { ...reading('no-norm'), prompt: 'a fox BREAK snow', negativePrompt: 'blur' };
    assert.doesNotMatch(infotextFor(plain, output, image, 0, 1), /Emphasis/, 'nothing to weight: the mode does not matter');
    assert.match(
      infotextFor({ ...plain, negativePrompt: '[blur]' }, output, image, 0, 1),
      /Emphasis: No norm/,
      'a bracket in the negative prompt counts',
    );
  });
});

describe('PNG parameters and the final decoder', () => {
  it("records a tiny final decoder as A1111 does ('VAE Decoder: TAESD'), and nothing for the model's own VAE", () => {
    const tiny = parseInfotext(infotextFor(base, { ...output, vaeDecoder: 'TAESD' }, image, 0, 1));
    assert.equal(tiny.extra['VAE Decoder'], 'TAESD');
    assert.equal(tiny.prompt, base.prompt);
    assert.equal(parseInfotext(infotextFor(base, output, image, 0, 1)).extra['VAE Decoder'], undefined);
  });
});

describe('PNGs made by a remote worker', () => {
  it('an Upscale ×2 in hires mode is recorded again as the hires fix, pixels unchanged', async () => {
    const rgb = new Uint8Array(128 * 128 * 3).map((_, i) => (i * 37) % 256);
    const upscaled = { width: 128, height: 128, rgb };
    const [fromWorker] = await renderPngs([upscaled], base, output);
    const [recorded] = await rerecordPngs([fromWorker!], { ...base, kind: 'remix', operation: 'upscale-hires' }, output);
    const parsed = parseInfotext(readPngText(recorded!)['parameters']!);
    assert.equal(parsed.extra['Hires upscale'], '2');
    assert.equal(parsed.width, 64, "the hires fix's Size is the first pass's");
    const decoded = await decodeRgb(recorded!, { maxPixels: 1 << 20 });
    assert.deepEqual(decoded.image.rgb, rgb);
  });
});
