import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isUserError, type UserError } from '../../src/errors.js';
import { SessionFactory, defaultRuntimeOptions, type RuntimeOptions } from '../../src/runtime/session-factory.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { truncatedModel } from '../support/onnx/variants.js';

const unetPath = join(tinyModelDir, 'unet', 'model.onnx');

function failsWith(identifier: string, ...patterns: RegExp[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isUserError(error), String(error));
    assert.equal((error as UserError).identifier, identifier, (error as Error).message);
    for (const pattern of patterns) assert.match((error as Error).message, pattern);
    return true;
  };
}

describe('session creation failures say what is wrong', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'latentcord-session-errors-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const badOptions: [string, Partial<RuntimeOptions>, RegExp][] = [
    ['a fractional thread count', { intraOpThreads: 2.5 }, /'intraOpNumThreads' is invalid: 2\.5.*intraOpThreads 2\.5/],
    [
      'an unknown optimisation level',
      { graphOptimizationLevel: 'fastest' as RuntimeOptions['graphOptimizationLevel'] },
      /'graphOptimizationLevel' is not supported: fastest.*graphOptimizationLevel "fastest"/,
    ],
  ];
  for (const [name, options, pattern] of badOptions) {
    it(`${name} is reported as a session option, not as a broken model file`, async () => {
      const factory = new SessionFactory({ ...defaultRuntimeOptions, ...options });
      await assert.rejects(factory.load(unetPath), (error: unknown) => {
        failsWith('runtime.badSessionOption', pattern, /unet\/model\.onnx/, /runtime\.intraOpThreads/)(error);
        assert.doesNotMatch((error as Error).message, /truncated|download the model/i);
        return true;
      });
    });
  }

  it('a truncated file is still reported as one', async () => {
    const path = join(dir, 'truncated.onnx');
    truncatedModel(unetPath, path);
    await assert.rejects(new SessionFactory().load(path), failsWith('model.unreadable', /truncated\.onnx/, /truncated/));
  });

  it('an empty file holds no graph', async () => {
    const path = join(dir, 'empty.onnx');
    writeFileSync(path, '');
    await assert.rejects(new SessionFactory().load(path), failsWith('model.unreadable', /empty\.onnx/, /holds no graph/));
  });
});
