import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { maxAbsDiff, tinyModelDir } from '../helpers/fixtures.js';
import { roundToFloat16 } from '../support/onnx/float16.js';
import { requireGraph } from '../support/onnx/graph-edit.js';
import { readModelFile } from '../support/onnx/model-file.js';
import { DataLocation } from '../support/onnx/onnx-schema.js';
import { ProtobufDecodeError } from '../support/onnx/wire.js';
import {
  describeSession,
  float16Tensor,
  float32Tensor,
  floatValues,
  int32Tensor,
  int64Tensor,
  openSession,
  outputOf,
  seededValues,
  type IoDescription,
} from '../support/onnx/ort-run.js';
import {
  textEncoderFloat16Output,
  textEncoderInt64InputIds,
  textEncoderRenamedOutput,
  truncatedModel,
  unetFloat16,
  unetRenamedInput,
  unetTimestepBatch,
  unetTimestepCond,
  unetFixedSequence,
  unetTimestepFloat16,
  unetTimestepInt64,
  unetTimestepScalar,
  vaeDecoderFloat16,
  vaeEncoderFloat16,
  vaeEncoderLatentSample,
  withExternalData,
} from '../support/onnx/variants.js';

const original = {
  textEncoder: join(tinyModelDir, 'text_encoder', 'model.onnx'),
  unet: join(tinyModelDir, 'unet', 'model.onnx'),
  vaeEncoder: join(tinyModelDir, 'vae_encoder', 'model.onnx'),
  vaeDecoder: join(tinyModelDir, 'vae_decoder', 'model.onnx'),
};

let workDir = '';
const referenceSessions = new Map<string, Promise<InferenceSession>>();
before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'latentcord-onnx-variants-'));
});
after(async () => {
  for (const session of referenceSessions.values()) await (await session).release();
  rmSync(workDir, { recursive: true, force: true });
});

/** Runs an original tiny-sd model (one cached session per model). */
function reference(path: string, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  let session = referenceSessions.get(path);
  if (session === undefined) {
    session = openSession(path);
    referenceSessions.set(path, session);
  }
  return session.then((s) => s.run(feeds));
}

/** Opens one session on a variant, hands it to `use`, and releases it. */
async function withSession<T>(path: string, use: (session: InferenceSession) => Promise<T>): Promise<T> {
  const session = await openSession(path);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

/** Builds a variant into its own folder of the work dir and reports how long that took. */
function build(t: TestContext, name: string, builder: (source: string, target: string) => unknown, source: string): string {
  const target = join(workDir, name, 'model.onnx');
  const start = performance.now();
  builder(source, target);
  t.diagnostic(`${name} built in ${(performance.now() - start).toFixed(0)} ms`);
  return target;
}

/** Asserts two outputs hold the same values (and dims); refuses a vacuous comparison of all zeros. */
function assertSameValues(actual: Tensor, expected: { dims: readonly number[]; values: ArrayLike<number> }, label: string): void {
  assert.deepEqual(actual.dims, expected.dims, `${label}: dims`);
  const values = floatValues(actual);
  assert.ok(
    Array.from(expected.values).some((v) => v !== 0),
    `${label}: reference is not all zeros`,
  );
  assert.equal(maxAbsDiff(values, expected.values), 0, `${label}: values differ`);
}

const same = (tensor: Tensor): { dims: readonly number[]; values: Float32Array } => ({ dims: tensor.dims, values: floatValues(tensor) });
const fp16Rounded = (tensor: Tensor): { dims: readonly number[]; values: Float32Array } => ({
  dims: tensor.dims,
  values: roundToFloat16(floatValues(tensor)),
});

// ----------------------------------------------------------------------------------------- inputs

const tokenRows = [
  [49406, 320, 1125, 539, 320, 2368, 49407],
  [49406, 49407],
];
const inputIds = tokenRows.flatMap((row) => [...row, ...new Array<number>(77 - row.length).fill(49407)]);
const textFeeds = (): Record<string, Tensor> => ({ input_ids: int32Tensor(inputIds, [2, 77]) });

const sampleValues = seededValues(2 * 4 * 8 * 8, 11, 2);
const hiddenValues = seededValues(2 * 77 * 32, 12, 2);
const unetFeeds = (timestep: Tensor, sample: Tensor = float32Tensor(sampleValues, [2, 4, 8, 8])): Record<string, Tensor> => ({
  sample,
  timestep,
  encoder_hidden_states: float32Tensor(hiddenValues, [2, 77, 32]),
});

const pixelValues = seededValues(2 * 3 * 32 * 32, 13);
const latentValues = seededValues(1 * 4 * 4 * 6, 14, 3);

const expectedTextOutputs: IoDescription[] = [
  { name: 'last_hidden_state', type: 'float32', shape: ['batch', 'sequence', 32] },
  { name: 'pooler_output', type: 'float32', shape: ['batch', 32] },
];
const unetInputs = (timestep: IoDescription, dtype = 'float32'): IoDescription[] => [
  { name: 'sample', type: dtype, shape: ['batch', 4, 'height', 'width'] },
  timestep,
  { name: 'encoder_hidden_states', type: dtype, shape: ['batch', 'sequence', 32] },
];
const unetOutputs = (dtype = 'float32'): IoDescription[] => [{ name: 'out_sample', type: dtype, shape: ['batch', 4, 'height', 'width'] }];

// ----------------------------------------------------------------------------------- text encoder

test('text encoder with int64 input_ids: declared int64, outputs identical', async (t) => {
  const path = build(t, 'text-int64', textEncoderInt64InputIds, original.textEncoder);
  const expected = await reference(original.textEncoder, textFeeds());
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: [{ name: 'input_ids', type: 'int64', shape: ['batch', 'sequence'] }],
      outputs: expectedTextOutputs,
    });
    const outputs = await session.run({ input_ids: int64Tensor(inputIds, [2, 77]) });
    for (const name of ['last_hidden_state', 'pooler_output'])
      assertSameValues(outputOf(outputs, name), same(outputOf(expected, name)), name);
    await assert.rejects(session.run(textFeeds()), /type|int64|int32/i, 'int32 ids are refused by the int64 variant');
  });
});

test('text encoder with float16 outputs: both outputs are the float32 ones rounded to float16', async (t) => {
  const path = build(t, 'text-fp16-out', textEncoderFloat16Output, original.textEncoder);
  const expected = await reference(original.textEncoder, textFeeds());
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: [{ name: 'input_ids', type: 'int32', shape: ['batch', 'sequence'] }],
      outputs: expectedTextOutputs.map((o) => ({ ...o, type: 'float16' })),
    });
    const outputs = await session.run(textFeeds());
    for (const name of ['last_hidden_state', 'pooler_output']) {
      assert.equal(outputOf(outputs, name).type, 'float16');
      assertSameValues(outputOf(outputs, name), fp16Rounded(outputOf(expected, name)), name);
    }
  });
});

test('text encoder float16 output can be limited to last_hidden_state', async (t) => {
  const path = build(
    t,
    'text-fp16-last',
    (s, d) => textEncoderFloat16Output(s, d, { outputs: ['last_hidden_state'] }),
    original.textEncoder,
  );
  await withSession(path, async (session) => {
    const { outputs } = describeSession(session);
    assert.deepEqual(
      outputs.map((o) => `${o.name}:${o.type}`),
      ['last_hidden_state:float16', 'pooler_output:float32'],
    );
  });
});

test('broken text encoder: last_hidden_state is called hidden_states', async (t) => {
  const path = build(t, 'text-renamed', textEncoderRenamedOutput, original.textEncoder);
  const expected = await reference(original.textEncoder, textFeeds());
  await withSession(path, async (session) => {
    assert.deepEqual(session.outputNames, ['hidden_states', 'pooler_output']);
    const outputs = await session.run(textFeeds());
    assert.equal(outputs['last_hidden_state'], undefined);
    assertSameValues(outputOf(outputs, 'hidden_states'), same(outputOf(expected, 'last_hidden_state')), 'hidden_states');
  });
});

// ------------------------------------------------------------------------------------------- UNet

test('UNet with int64 timestep [1]: declared int64 [1], output identical to float32 999', async (t) => {
  const path = build(t, 'unet-int64', unetTimestepInt64, original.unet);
  const expected = await reference(original.unet, unetFeeds(float32Tensor([999], [1])));
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: unetInputs({ name: 'timestep', type: 'int64', shape: [1] }),
      outputs: unetOutputs(),
    });
    const outputs = await session.run(unetFeeds(int64Tensor([999], [1])));
    assertSameValues(outputOf(outputs, 'out_sample'), same(outputOf(expected, 'out_sample')), 'out_sample');
    await assert.rejects(session.run(unetFeeds(int64Tensor([999, 999], [2]))), /dimension|shape/i, 'a [2] timestep is refused');
  });
});

test('UNet with float16 timestep [1]: output identical for a float16-exact timestep', async (t) => {
  const path = build(t, 'unet-ts-fp16', unetTimestepFloat16, original.unet);
  const expected = await reference(original.unet, unetFeeds(float32Tensor([500.5], [1])));
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: unetInputs({ name: 'timestep', type: 'float16', shape: [1] }),
      outputs: unetOutputs(),
    });
    const outputs = await session.run(unetFeeds(float16Tensor([500.5], [1])));
    assertSameValues(outputOf(outputs, 'out_sample'), same(outputOf(expected, 'out_sample')), 'out_sample');
  });
});

test('UNet with a scalar float32 timestep: declared rank 0, output identical', async (t) => {
  const path = build(t, 'unet-scalar', unetTimestepScalar, original.unet);
  const declared = requireGraph(readModelFile(path)).input.find((i) => i.name === 'timestep');
  assert.deepEqual(declared?.type?.tensorType?.shape?.dim, [], 'a declared shape with no dimensions (not an absent shape)');
  const expected = await reference(original.unet, unetFeeds(float32Tensor([946.4210815429688], [1])));
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: unetInputs({ name: 'timestep', type: 'float32', shape: [] }),
      outputs: unetOutputs(),
    });
    const outputs = await session.run(unetFeeds(float32Tensor([946.4210815429688], [])));
    assertSameValues(outputOf(outputs, 'out_sample'), same(outputOf(expected, 'out_sample')), 'out_sample');
  });
});

test('UNet with a fixed 77-token text axis: declared [batch, 77, 32], output identical, other lengths refused', async (t) => {
  const path = build(t, 'unet-fixed-sequence', unetFixedSequence, original.unet);
  const expected = await reference(original.unet, unetFeeds(float32Tensor([999], [1])));
  await withSession(path, async (session) => {
    const [sample, timestep] = unetInputs({ name: 'timestep', type: 'float32', shape: ['timestep_batch'] });
    assert.deepEqual(describeSession(session), {
      inputs: [sample!, timestep!, { name: 'encoder_hidden_states', type: 'float32', shape: ['batch', 77, 32] }],
      outputs: unetOutputs(),
    });
    const outputs = await session.run(unetFeeds(float32Tensor([999], [1])));
    assertSameValues(outputOf(outputs, 'out_sample'), same(outputOf(expected, 'out_sample')), 'out_sample');
    const longer = {
      ...unetFeeds(float32Tensor([999], [1])),
      encoder_hidden_states: float32Tensor(seededValues(2 * 154 * 32, 15), [2, 154, 32]),
    };
    await assert.rejects(session.run(longer), /dimension|shape|Expected: 77/i, 'a 154-token text is refused');
  });
});

test('UNet with timestep [batch]: shares the batch symbol, per-row timesteps give the original outputs', async (t) => {
  const path = build(t, 'unet-batch', unetTimestepBatch, original.unet);
  const expected = await reference(original.unet, unetFeeds(float32Tensor([999, 1], [2])));
  const uniform = await reference(original.unet, unetFeeds(float32Tensor([999], [1])));
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: unetInputs({ name: 'timestep', type: 'float32', shape: ['batch'] }),
      outputs: unetOutputs(),
    });
    const outputs = await session.run(unetFeeds(float32Tensor([999, 1], [2])));
    assertSameValues(outputOf(outputs, 'out_sample'), same(outputOf(expected, 'out_sample')), 'out_sample');
    const half = 4 * 8 * 8;
    const values = floatValues(outputOf(outputs, 'out_sample'));
    const uniformValues = floatValues(outputOf(uniform, 'out_sample'));
    assert.equal(maxAbsDiff(values.subarray(0, half), uniformValues.subarray(0, half)), 0, 'row 0 uses timestep 999');
    assert.ok(maxAbsDiff(values.subarray(half), uniformValues.subarray(half)) > 1e-3, 'row 1 uses its own timestep');
  });
});

test('float16 UNet: float16 I/O; output is the float32 output (on float16-rounded inputs) rounded to float16', async (t) => {
  const path = build(t, 'unet-fp16', unetFloat16, original.unet);
  const expected = await reference(original.unet, {
    sample: float32Tensor(roundToFloat16(sampleValues), [2, 4, 8, 8]),
    timestep: float32Tensor([999], [1]),
    encoder_hidden_states: float32Tensor(roundToFloat16(hiddenValues), [2, 77, 32]),
  });
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: unetInputs({ name: 'timestep', type: 'float16', shape: ['timestep_batch'] }, 'float16'),
      outputs: unetOutputs('float16'),
    });
    const outputs = await session.run({
      sample: float16Tensor(sampleValues, [2, 4, 8, 8]),
      timestep: float16Tensor([999], [1]),
      encoder_hidden_states: float16Tensor(hiddenValues, [2, 77, 32]),
    });
    assert.equal(outputOf(outputs, 'out_sample').type, 'float16');
    assertSameValues(outputOf(outputs, 'out_sample'), fp16Rounded(outputOf(expected, 'out_sample')), 'out_sample');
  });
});

test('LCM-style UNet with timestep_cond [batch, 256]: declared, required, output identical', async (t) => {
  const path = build(t, 'unet-cond', unetTimestepCond, original.unet);
  const expected = await reference(original.unet, unetFeeds(float32Tensor([999], [1])));
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: [
        ...unetInputs({ name: 'timestep', type: 'float32', shape: ['timestep_batch'] }),
        { name: 'timestep_cond', type: 'float32', shape: ['batch', 256] },
      ],
      outputs: unetOutputs(),
    });
    const feeds = unetFeeds(float32Tensor([999], [1]));
    const outputs = await session.run({ ...feeds, timestep_cond: float32Tensor(seededValues(512, 15, 5), [2, 256]) });
    assertSameValues(outputOf(outputs, 'out_sample'), same(outputOf(expected, 'out_sample')), 'out_sample');
    await assert.rejects(session.run(feeds), /timestep_cond/, 'timestep_cond is required');
    await assert.rejects(
      session.run({ ...feeds, timestep_cond: float32Tensor(new Float32Array(2 * 128), [2, 128]) }),
      /dimension|shape/i,
      'a [2, 128] timestep_cond is refused',
    );
  });
});

test('broken UNet: sample is called latents', async (t) => {
  const path = build(t, 'unet-renamed', unetRenamedInput, original.unet);
  const feeds = unetFeeds(float32Tensor([999], [1]));
  const expected = await reference(original.unet, feeds);
  await withSession(path, async (session) => {
    assert.deepEqual(session.inputNames, ['latents', 'timestep', 'encoder_hidden_states']);
    await assert.rejects(session.run(feeds), /latents|sample|input/i);
    const { sample, ...rest } = feeds;
    const outputs = await session.run({ ...rest, latents: sample as Tensor });
    assertSameValues(outputOf(outputs, 'out_sample'), same(outputOf(expected, 'out_sample')), 'out_sample');
  });
});

// -------------------------------------------------------------------------------------------- VAE

test('VAE encoder with latent_sample output: the mean channels 0-3 of latent_parameters', async (t) => {
  const path = build(t, 'vae-enc-latent', vaeEncoderLatentSample, original.vaeEncoder);
  const feeds = { sample: float32Tensor(pixelValues, [2, 3, 32, 32]) };
  const parameters = floatValues(outputOf(await reference(original.vaeEncoder, feeds), 'latent_parameters'));
  const plane = 4 * 4;
  const mean = Float32Array.from([...parameters.subarray(0, 4 * plane), ...parameters.subarray(8 * plane, 12 * plane)]);
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: [{ name: 'sample', type: 'float32', shape: ['batch', 3, 'height', 'width'] }],
      outputs: [{ name: 'latent_sample', type: 'float32', shape: ['batch', 4, 'latent_height', 'latent_width'] }],
    });
    const outputs = await session.run(feeds);
    assert.deepEqual(Object.keys(outputs), ['latent_sample']);
    assertSameValues(outputOf(outputs, 'latent_sample'), { dims: [2, 4, 4, 4], values: mean }, 'latent_sample');
  });
});

test('float16 VAE encoder: float16 I/O, rounded float32 result', async (t) => {
  const path = build(t, 'vae-enc-fp16', vaeEncoderFloat16, original.vaeEncoder);
  const expected = await reference(original.vaeEncoder, { sample: float32Tensor(roundToFloat16(pixelValues), [2, 3, 32, 32]) });
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: [{ name: 'sample', type: 'float16', shape: ['batch', 3, 'height', 'width'] }],
      outputs: [{ name: 'latent_parameters', type: 'float16', shape: ['batch', 8, 'latent_height', 'latent_width'] }],
    });
    const outputs = await session.run({ sample: float16Tensor(pixelValues, [2, 3, 32, 32]) });
    assertSameValues(outputOf(outputs, 'latent_parameters'), fp16Rounded(outputOf(expected, 'latent_parameters')), 'latent_parameters');
  });
});

test('float16 VAE decoder: float16 I/O, rounded float32 result', async (t) => {
  const path = build(t, 'vae-dec-fp16', vaeDecoderFloat16, original.vaeDecoder);
  const expected = await reference(original.vaeDecoder, { latent_sample: float32Tensor(roundToFloat16(latentValues), [1, 4, 4, 6]) });
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: [{ name: 'latent_sample', type: 'float16', shape: ['batch', 4, 'latent_height', 'latent_width'] }],
      outputs: [{ name: 'sample', type: 'float16', shape: ['batch', 3, 'height', 'width'] }],
    });
    const outputs = await session.run({ latent_sample: float16Tensor(latentValues, [1, 4, 4, 6]) });
    assertSameValues(outputOf(outputs, 'sample'), fp16Rounded(outputOf(expected, 'sample')), 'sample');
  });
});

// ------------------------------------------------------------------------------------ external data

test('UNet with weights in model.onnx_data: page-aligned, loads from its folder, output identical', async (t) => {
  const path = build(t, 'unet-external', withExternalData, original.unet);
  const dataPath = join(workDir, 'unet-external', 'model.onnx_data');
  const model = readModelFile(path);
  const externals = requireGraph(model).initializer.filter((i) => i.dataLocation === DataLocation.external);
  const sourceTensors = new Map(requireGraph(readModelFile(original.unet)).initializer.map((i) => [i.name, i]));
  assert.ok(externals.length > 50, `${externals.length} tensors moved`);
  const data = readFileSync(dataPath);
  for (const tensor of externals) {
    const entries = Object.fromEntries(tensor.externalData.map((e) => [e.key, e.value]));
    assert.deepEqual(Object.keys(entries), ['location', 'offset', 'length']);
    assert.equal(entries['location'], 'model.onnx_data');
    const offset = Number(entries['offset']);
    const length = Number(entries['length']);
    assert.equal(offset % 4096, 0, `${tensor.name} offset ${offset} is page-aligned`);
    assert.equal(tensor.rawData, undefined);
    const sourceBytes = sourceTensors.get(tensor.name)?.rawData ?? new Uint8Array(0);
    assert.ok(Buffer.from(data.subarray(offset, offset + length)).equals(Buffer.from(sourceBytes)), `${tensor.name} bytes`);
  }
  assert.ok(statSync(path).size < statSync(original.unet).size / 2, 'weights left the model file');

  const feeds = unetFeeds(float32Tensor([999], [1]));
  const expected = await reference(original.unet, feeds);
  await withSession(path, async (session) => {
    assert.deepEqual(describeSession(session), {
      inputs: unetInputs({ name: 'timestep', type: 'float32', shape: ['timestep_batch'] }),
      outputs: unetOutputs(),
    });
    const outputs = await session.run(feeds);
    assertSameValues(outputOf(outputs, 'out_sample'), same(outputOf(expected, 'out_sample')), 'out_sample');
  });

  const alone = join(workDir, 'unet-external-alone');
  mkdirSync(alone);
  copyFileSync(path, join(alone, 'model.onnx'));
  await assert.rejects(openSession(join(alone, 'model.onnx')), 'the model does not load without its data file');
});

test('VAE decoder with every weight in weights.pb, unaligned: loads, output identical', async (t) => {
  const path = build(
    t,
    'vae-dec-external',
    (s, d) => withExternalData(s, d, { dataFileName: 'weights.pb', alignment: 1, sizeThreshold: 0 }),
    original.vaeDecoder,
  );
  const initializers = requireGraph(readModelFile(path)).initializer;
  assert.ok(
    initializers.every((i) => i.dataLocation === DataLocation.external && i.externalData[0]?.value === 'weights.pb'),
    'every initializer moved',
  );
  const totalBytes = requireGraph(readModelFile(original.vaeDecoder)).initializer.reduce((n, i) => n + (i.rawData?.length ?? 0), 0);
  assert.equal(statSync(join(workDir, 'vae-dec-external', 'weights.pb')).size, totalBytes, 'no padding');
  const feeds = { latent_sample: float32Tensor(latentValues, [1, 4, 4, 6]) };
  const expected = await reference(original.vaeDecoder, feeds);
  await withSession(path, async (session) => {
    const outputs = await session.run(feeds);
    assertSameValues(outputOf(outputs, 'sample'), same(outputOf(expected, 'sample')), 'sample');
  });
});

// ------------------------------------------------------------------------------------------ broken

test('truncated model: neither onnxruntime nor the codec accept it', async (t) => {
  const path = build(t, 'unet-truncated', truncatedModel, original.unet);
  assert.equal(statSync(path).size, Math.floor(statSync(original.unet).size / 2));
  await assert.rejects(openSession(path));
  assert.throws(() => readModelFile(path), ProtobufDecodeError);
});
