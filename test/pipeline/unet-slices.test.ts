import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Unet } from '../../src/pipeline/components/unet.js';
import type { ModelSession } from '../../src/pipeline/model-session.js';
import { SessionFactory } from '../../src/runtime/session-factory.js';
import { tinyModelDir, tinySdxlModelDir } from '../helpers/fixtures.js';
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

  it("slices SDXL's added conditions (text_embeds, time_ids) with their rows", async () => {
    const sdxlSession = await new SessionFactory().load(join(tinySdxlModelDir, 'unet', 'model.onnx'));
    try {
      const unet = new Unet(sdxlSession);
      assert.equal(unet.takesAddedConditions, true);
      const hidden = Number(sdxlSession.inputs.find((io) => io.name === 'encoder_hidden_states')?.shape?.[2]);
      const embeds = unet.textEmbedsDim ?? 32;
      const rows = 3;
      const [height, width] = [8, 8];
      // Every row has its own pooled embedding and size conditioning, so a slice fed another row's would differ.
      const input = {
        sample: seededValues(rows * 4 * height * width, 3),
        sampleDims: [rows, 4, height, width] as const,
        timestep: 401,
        encoderHiddenStates: seededValues(rows * 77 * hidden, 4),
        encoderHiddenStatesDims: [rows, 77, hidden] as const,
        addedConditions: {
          textEmbeds: seededValues(rows * embeds, 5),
          timeIds: Float32Array.from([64, 64, 0, 0, 64, 64, 128, 96, 8, 0, 64, 64, 32, 48, 0, 16, 64, 64]),
        },
      };
      const timing = { modelMs: 0, modelCalls: 0 };
      const whole = await unet.predict(input, timing);
      unet.maxBatch = 1;
      assert.deepEqual(await unet.predict(input, timing), whole);
      assert.equal(timing.modelCalls, 1 + rows);
    } finally {
      await sdxlSession.release();
    }
  });
});
