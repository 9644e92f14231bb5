import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fixturePath } from './fixtures.js';

/** The goldens are never edited by hand: every copied file must still hash to what its provenance README lists. */
describe('fixture integrity', () => {
  const readme = readFileSync(fixturePath('README.md'), 'utf8');
  const listed = [...readme.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)].map((m) => ({ sha256: m[1]!, path: m[2]! }));

  it('lists every golden and the whole tiny model', () => {
    assert.ok(listed.length >= 55, `${listed.length} files listed`);
    for (const name of [
      'pipeline-cases.json',
      'scheduler-cases.json',
      'rng-cases.json',
      'tokenizer-cases.json',
      'prompt-weighting-cases.json',
      'pipeline-cases-weighted.json',
      'tiny-sd/unet/model.onnx',
      'pipeline-cases-sdxl.json',
      'A12-sdxl-img2img-dpmpp2m-karras-s0.6.png',
      'tiny-sdxl/text_encoder_2/model.onnx',
      'tiny-sdxl/unet/model.onnx',
    ]) {
      assert.ok(
        listed.some((entry) => entry.path === name),
        name,
      );
    }
  });

  it('every copied file is unchanged', () => {
    const changed = listed.filter(
      ({ sha256, path }) =>
        createHash('sha256')
          .update(readFileSync(fixturePath(path)))
          .digest('hex') !== sha256,
    );
    assert.deepEqual(
      changed.map((entry) => entry.path),
      [],
    );
  });
});
