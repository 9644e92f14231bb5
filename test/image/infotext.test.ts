import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatInfotext, parseInfotext, pythonNumberString, quoteInfotextValue, type InfotextParams } from '../../src/image/infotext.js';

/** The example in the docstring of A1111's `parse_generation_parameters` (modules/infotext_utils.py). */
const A1111_DOCSTRING_EXAMPLE = [
  "girl with an artist's beret, determined, blue eyes, desert scene, computer monitors, heavy makeup, by Alphonse Mucha and Charlie " +
    'Bowater, ((eyeshadow)), (coquettish), detailed, intricate',
  'Negative prompt: ugly, fat, obese, chubby, (((deformed))), [blurry], bad anatomy, disfigured, poorly drawn face, mutation, mutated, ' +
    '(extra_limb), (ugly), (poorly drawn hands), messy drawing',
  'Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b',
].join('\n');

describe('formatInfotext', () => {
  it("reproduces the example of A1111's parser docstring", () => {
    const text = formatInfotext({
      prompt:
        "girl with an artist's beret, determined, blue eyes, desert scene, computer monitors, heavy makeup, by Alphonse Mucha and " +
        'Charlie Bowater, ((eyeshadow)), (coquettish), detailed, intricate',
      negativePrompt:
        'ugly, fat, obese, chubby, (((deformed))), [blurry], bad anatomy, disfigured, poorly drawn face, mutation, mutated, ' +
        '(extra_limb), (ugly), (poorly drawn hands), messy drawing',
      steps: 20,
      sampler: 'Euler a',
      cfgScale: 7,
      seed: 965400086,
      width: 512,
      height: 512,
      modelHash: '45dee52b',
    });
    assert.equal(text, A1111_DOCSTRING_EXAMPLE);
  });

  it("follows create_infotext's key order, whatever order the fields are given in", () => {
    const text = formatInfotext({
      version: 'v1.10.1',
      denoisingStrength: 0.7,
      model: 'v1-5-pruned-emaonly',
      modelHash: '6ce0161689',
      height: 64,
      width: 96,
      seed: 42,
      cfgScale: 7.5,
      scheduleType: 'Karras',
      sampler: 'DPM++ 2M',
      steps: 20,
      negativePrompt: 'lowres',
      prompt: 'a castle on a hill',
      extra: { 'Hires upscaler': 'Latent', 'Clip skip': 2 },
    });
    assert.equal(
      text,
      'a castle on a hill\nNegative prompt: lowres\n' +
        'Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 42, Size: 96x64, Model hash: 6ce0161689, ' +
        'Model: v1-5-pruned-emaonly, Denoising strength: 0.7, Clip skip: 2, Hires upscaler: Latent, Version: v1.10.1',
    );
  });

  it('omits the negative prompt line when it is empty and quotes values with , : or newlines', () => {
    const text = formatInfotext({
      prompt: 'a dog',
      negativePrompt: '',
      steps: 4,
      sampler: 'LCM',
      cfgScale: 1,
      seed: 0,
      width: 64,
      height: 64,
      model: 'my model, v2',
      extra: { 'Lora hashes': 'add_detail: 7c6bad76eb54', Note: 'line1\nline2 "x"', Plain: 'say "hi" there' },
    });
    assert.equal(
      text,
      'a dog\nSteps: 4, Sampler: LCM, CFG scale: 1, Seed: 0, Size: 64x64, Model: "my model, v2", ' +
        'Lora hashes: "add_detail: 7c6bad76eb54", Note: "line1\\nline2 \\"x\\"", Plain: say "hi" there',
    );
  });

  it('writes a pair whose value equals its key as the bare key, as A1111 does', () => {
    const text = formatInfotext({
      prompt: 'p',
      steps: 1,
      sampler: 'Euler',
      cfgScale: 7,
      seed: 1,
      width: 8,
      height: 8,
      extra: { Tiling: 'Tiling' },
    });
    assert.ok(text.endsWith('Size: 8x8, Tiling'), text);
  });

  it("writes numbers as Python's str() does", () => {
    assert.deepEqual([7, 7.5, 0.7, 0.0001, 0.00001, 1.5e-7, 1e16, 123.456, -2.5, 2n ** 64n].map(pythonNumberString), [
      '7',
      '7.5',
      '0.7',
      '0.0001',
      '1e-05',
      '1.5e-07',
      '10000000000000000',
      '123.456',
      '-2.5',
      '18446744073709551616',
    ]);
    assert.equal(pythonNumberString(1.5e16), '15000000000000000');
    assert.equal(pythonNumberString(1.25e-5), '1.25e-05');
  });

  it('quotes exactly what A1111 quotes, plus values that would be misread as quoted', () => {
    assert.equal(quoteInfotextValue('Euler a'), 'Euler a');
    assert.equal(quoteInfotextValue('a:b'), '"a:b"');
    assert.equal(quoteInfotextValue('a,b'), '"a,b"');
    assert.equal(quoteInfotextValue('a\nb'), '"a\\nb"');
    assert.equal(quoteInfotextValue('日本語'), '日本語');
    assert.equal(quoteInfotextValue('"quoted"'), '"\\"quoted\\""');
  });
});

describe('parseInfotext', () => {
  it("reads the docstring example as A1111's parser does", () => {
    const parsed = parseInfotext(A1111_DOCSTRING_EXAMPLE);
    assert.ok(parsed.prompt.startsWith("girl with an artist's beret") && parsed.prompt.endsWith('intricate'));
    assert.ok(parsed.negativePrompt.startsWith('ugly, fat') && parsed.negativePrompt.endsWith('messy drawing'));
    assert.deepEqual(parsed.params, {
      Steps: '20',
      Sampler: 'Euler a',
      'CFG scale': '7',
      Seed: '965400086',
      Size: '512x512',
      'Model hash': '45dee52b',
    });
    assert.equal(parsed.steps, 20);
    assert.equal(parsed.sampler, 'Euler a');
    assert.equal(parsed.cfgScale, 7);
    assert.equal(parsed.seed, 965400086);
    assert.deepEqual([parsed.width, parsed.height], [512, 512]);
    assert.equal(parsed.modelHash, '45dee52b');
    assert.deepEqual(parsed.extra, {});
  });

  it('takes a last line with fewer than 3 parameters as part of the prompt', () => {
    const parsed = parseInfotext('a cat\nStyle: oil, Mood: calm');
    assert.equal(parsed.prompt, 'a cat\nStyle: oil, Mood: calm');
    assert.deepEqual(parsed.params, {});
  });

  it('unquotes JSON values, drops empty ones and keeps unknown keys as extra', () => {
    const parsed = parseInfotext('x\nSteps: 5, Sampler: Euler, Lora hashes: "a: 1, b: 2", Empty: , Seed: 18446744073709551615, Size: 8x16');
    assert.deepEqual(parsed.params, {
      Steps: '5',
      Sampler: 'Euler',
      'Lora hashes': 'a: 1, b: 2',
      Seed: '18446744073709551615',
      Size: '8x16',
    });
    assert.equal(parsed.seed, 18446744073709551615n);
    assert.deepEqual([parsed.width, parsed.height], [8, 16]);
    assert.deepEqual(parsed.extra, { 'Lora hashes': 'a: 1, b: 2' });
  });

  const roundTrips: InfotextParams[] = [
    { prompt: 'a running dog', steps: 20, sampler: 'Euler', cfgScale: 7.5, seed: 42, width: 96, height: 64 },
    {
      prompt: '富士山の水彩画, 🌸\nsecond line',
      negativePrompt: 'низкое качество, blur\nand more',
      steps: 14,
      sampler: 'Euler a',
      scheduleType: 'Automatic',
      cfgScale: 8,
      seed: 4294967295,
      width: 128,
      height: 64,
      modelHash: 'abc123',
      model: 'tiny-sd, "quoted"',
      denoisingStrength: 0.75,
      extra: { 'Lora hashes': 'a: 1, b: 2', RNG: 'CPU', Flag: '"both"' },
      version: 'latentcord 0.1.0',
    },
  ];
  for (const [i, p] of roundTrips.entries()) {
    it(`round-trips case ${i + 1} through format → parse → format`, () => {
      const text = formatInfotext(p);
      const parsed = parseInfotext(text);
      assert.equal(parsed.prompt, p.prompt);
      assert.equal(parsed.negativePrompt, p.negativePrompt ?? '');
      assert.equal(parsed.steps, p.steps);
      assert.equal(parsed.sampler, p.sampler);
      assert.equal(parsed.scheduleType, p.scheduleType);
      assert.equal(parsed.cfgScale, p.cfgScale);
      assert.equal(parsed.seed, p.seed);
      assert.deepEqual([parsed.width, parsed.height], [p.width, p.height]);
      assert.equal(parsed.modelHash, p.modelHash);
      assert.equal(parsed.model, p.model);
      assert.equal(parsed.denoisingStrength, p.denoisingStrength);
      assert.equal(parsed.version, p.version);
      assert.deepEqual(parsed.extra, Object.fromEntries(Object.entries(p.extra ?? {}).map(([k, v]) => [k, String(v)])));
      const {
        prompt,
        negativePrompt,
        steps,
        sampler,
        scheduleType,
        cfgScale,
        seed,
        width,
        height,
        modelHash,
        model,
        denoisingStrength,
        version,
        extra,
      } = parsed;
      assert.equal(
        formatInfotext({
          prompt,
          negativePrompt,
          steps: steps!,
          sampler: sampler!,
          scheduleType,
          cfgScale: cfgScale!,
          seed: seed!,
          width: width!,
          height: height!,
          modelHash,
          model,
          denoisingStrength,
          version,
          extra,
        }),
        text,
      );
    });
  }
});
