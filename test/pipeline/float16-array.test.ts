import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFloatOutput } from '../../src/pipeline/components/io.js';
import type { ModelSession, TensorData } from '../../src/pipeline/model-session.js';
import type { BatchParameters, GenerationJob, JobResult } from '../../src/pipeline/stable-diffusion.js';
import { SessionFactory } from '../../src/runtime/session-factory.js';
import { loadEngine } from '../../src/worker/load-engine.js';
import { maxAbsDiff, tinyModelDir } from '../helpers/fixtures.js';
import { installFloat16Array } from '../support/float16-array.js';
import { makeVariantModelFolder } from '../support/onnx/model-folder.js';
import { float16Io } from '../support/onnx/variants.js';

// As on Node ≥ 24, where onnxruntime-common hands float16 tensors out as Float16Array (values, not bits).
// This file runs in a process of its own, and no tensor exists yet: onnxruntime-common will see the global.
const Float16Array = installFloat16Array() as new (values: number[]) => ArrayLike<number>;

const job: GenerationJob = { prompt: 'a running dog', negativePrompt: 'blur', guidanceScale: 7.5, seed: 3, numImages: 1 };
const parameters: BatchParameters = { width: 96, height: 64, numInferenceSteps: 4, scheduler: 'ddim', rng: 'cpu' };

async function generate(dir: string): Promise<JobResult> {
  const { pipeline } = await loadEngine(dir);
  try {
    return await pipeline.generate(job, parameters, { keepIntermediates: true });
  } finally {
    await pipeline.release();
  }
}

describe('float16 outputs handed out as Float16Array', () => {
  let workDir: string;
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'latentcord-f16array-'));
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('reads Float16Array values as values and Uint16Array data as half bits', () => {
    const values = [1.5, -2, 65504, 2 ** -24, 0.333251953125];
    const session = { path: 'test.onnx', inputs: [], outputs: [] } as unknown as ModelSession;
    const asValues: TensorData = { type: 'float16', data: new Float16Array(values) as unknown as Uint16Array, dims: [5] };
    assert.deepEqual([...readFloatOutput(session, { out: asValues }, 'out', [5])], values);
    const asBits: TensorData = { type: 'float16', data: Uint16Array.from([0x3e00, 0xc000, 0x7bff, 0x0001, 0x3555]), dims: [5] };
    assert.deepEqual([...readFloatOutput(session, { out: asBits }, 'out', [5])], values);
  });

  it('the whole pipeline on graphs with float16 outputs gives the float32 picture within fp16 rounding', async () => {
    const fp16Outputs = (outputs: string[]) => (source: string, target: string) => float16Io(source, target, { inputs: [], outputs });
    const dir = makeVariantModelFolder(join(workDir, 'fp16-outputs'), {
      textEncoder: 'float16Output',
      unet: fp16Outputs(['out_sample']),
      vaeDecoder: fp16Outputs(['sample']),
    }).dir;
    const factory = new SessionFactory();
    const unet = await factory.load(join(dir, 'unet', 'model.onnx'));
    try {
      assert.equal(unet.outputs.find((o) => o.name === 'out_sample')?.type, 'float16');
    } finally {
      await unet.release();
    }

    const reference = await generate(tinyModelDir);
    const result = await generate(dir);
    const decodedDiff = maxAbsDiff(result.decodedImages![0]!, reference.decodedImages![0]!);
    assert.ok(Number.isFinite(decodedDiff) && decodedDiff < 0.05, `decoded images differ by ${decodedDiff}`);
    const latentDiff = maxAbsDiff(result.finalLatents!, reference.finalLatents!);
    assert.ok(Number.isFinite(latentDiff) && latentDiff < 0.05, `final latents differ by ${latentDiff}`);
  });

  it('onnxruntime really hands the float16 output out as the global Float16Array', async () => {
    const dir = makeVariantModelFolder(join(workDir, 'text-encoder'), { textEncoder: 'float16Output' }).dir;
    const session = await new SessionFactory().load(join(dir, 'text_encoder', 'model.onnx'));
    try {
      const ids = new Int32Array(77).fill(49407);
      const outputs = await session.run({ input_ids: { type: 'int32', data: ids, dims: [1, 77] } }, ['last_hidden_state']);
      assert.ok(outputs['last_hidden_state']!.data instanceof Float16Array, 'onnxruntime-common used the global Float16Array');
    } finally {
      await session.release();
    }
  });
});
