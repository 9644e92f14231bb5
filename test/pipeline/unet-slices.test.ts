import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Unet } from '../../src/pipeline/components/unet.js';
import type { ModelSession } from '../../src/pipeline/model-session.js';
import { SessionFactory } from '../../src/runtime/session-factory.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { seededValues } from '../support/onnx/ort-run.js';

describe('Unet.maxBatch (a batch in slices of rows)', () => {
  let session: ModelSession;
  before(async () => {
    session = await new SessionFactory().load(join(tinyModelDir, 'unet', 'model.onnx'));
  });
  after(async () => session.release());

  it('gives exactly the prediction of one run, for every slice size (non-square latents)', async () => {
    const unet = new Unet(session);
    const rows = 3;
    const [height, width] = [6, 8];
    const hidden = 32;
    const input = {
      sample: seededValues(rows * 4 * height * width, 1),
      sampleDims: [rows, 4, height, width] as const,
      timestep: 601,
      encoderHiddenStates: seededValues(rows * 77 * hidden, 2),
      encoderHiddenStatesDims: [rows, 77, hidden] as const,
    };
    const timing = { modelMs: 0, modelCalls: 0 };
    const whole = await unet.predict(input, timing);
    assert.equal(timing.modelCalls, 1);
    for (const maxBatch of [1, 2]) {
      unet.maxBatch = maxBatch;
      const calls: number = timing.modelCalls;
      assert.deepEqual(await unet.predict(input, timing), whole, `maxBatch ${maxBatch}`);
      assert.equal(timing.modelCalls - calls, Math.ceil(rows / maxBatch));
    }
  });
});
