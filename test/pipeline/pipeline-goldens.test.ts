import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { EmphasisMode, GenerationJob, JobResult, StableDiffusionPipeline } from '../../src/pipeline/stable-diffusion.js';
import type { SchedulerName } from '../../src/schedulers/index.js';
import { loadEngine } from '../../src/worker/load-engine.js';
import { f32, fixturePath, loadJsonFixture, maxAbsDiff, tinyModelDir, type FixtureTensor } from '../helpers/fixtures.js';

/**
 * The reference runs of diffusers 0.35.2 on the tiny model, replayed through the real onnxruntime graphs: the six
 * of test/fixtures/pipeline-cases.json (plain prompts, diffusers' own encoding) and the three of
 * pipeline-cases-weighted.json (diffusers fed with AUTOMATIC1111's weighted, multi-chunk conditioning, padded for
 * guidance). Tolerances are the ones the fixtures' README recommends for the CPU execution provider: latents 5e-4
 * absolute after every step, decoded image 1e-4, PNG max 1 and mean 2e-3; the text conditioning 1e-5.
 */
interface PipelineCase {
  id: string;
  kind: 'txt2img' | 'img2img';
  params: {
    prompt: string;
    negative_prompt: string | null;
    num_inference_steps: number;
    guidance_scale: number;
    width: number;
    height: number;
    seed: number;
    strength?: number;
    num_images_per_prompt: number;
  };
  scheduler: { class: string; from_config_overrides: Record<string, unknown> };
  timesteps: number[];
  text_embeddings: FixtureTensor;
  /** Weighted cases: A1111's emphasis mode the conditioning was made with. */
  a1111_conditioning?: { emphasis: 'No norm' | 'Original'; padding: { sequence_length: number } };
  initial_latents_scaled?: FixtureTensor;
  img2img?: { noisy_latents: FixtureTensor; input_png: string };
  step_latents: { i: number; t: number; latents: number[] }[];
  final_latents: FixtureTensor;
  decoded_image: FixtureTensor;
  output_png: string;
}

const plainCases = loadJsonFixture<{ cases: PipelineCase[] }>('pipeline-cases.json').cases;
const weightedCases = loadJsonFixture<{ cases: PipelineCase[] }>('pipeline-cases-weighted.json').cases;

function emphasisFor(testCase: PipelineCase): EmphasisMode {
  const mode = testCase.a1111_conditioning?.emphasis;
  return mode === 'No norm' ? 'no-norm' : 'original';
}

function schedulerFor(testCase: PipelineCase): SchedulerName {
  const { class: className, from_config_overrides: overrides } = testCase.scheduler;
  if (className === 'EulerDiscreteScheduler') return 'euler';
  if (className === 'DDIMScheduler') return 'ddim';
  if (className === 'LCMScheduler') return 'lcm';
  if (className === 'DPMSolverMultistepScheduler') return overrides['use_karras_sigmas'] ? 'dpmpp-2m-karras' : 'dpmpp-2m';
  throw new Error(`no scheduler name for ${className}`);
}

/** The img2img preprocessing the fixtures record: PNG → float32 /255 → NCHW → 2x − 1. */
async function loadInitImage(file: string) {
  const { data, info } = await sharp(fixturePath(file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const pixels = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) pixels[c * plane + p] = Math.fround(2 * Math.fround(data[p * 3 + c]! / 255) - 1);
  }
  return { pixels, width: info.width, height: info.height };
}

async function pngPixels(file: string): Promise<Uint8Array> {
  const { data } = await sharp(fixturePath(file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

/** What one replay produced. */
interface Replay {
  readonly result: JobResult;
  readonly conditioning: Float32Array;
  readonly conditioningDims: readonly number[];
}

function jobFor(testCase: PipelineCase, emphasis: EmphasisMode): Omit<GenerationJob, 'initImage'> {
  const p = testCase.params;
  return {
    prompt: p.prompt,
    ...(p.negative_prompt !== null ? { negativePrompt: p.negative_prompt } : {}),
    emphasis,
    guidanceScale: p.guidance_scale,
    seed: p.seed,
    numImages: p.num_images_per_prompt,
  };
}

/** Runs one case and checks every intermediate against its golden; returns what it produced. */
async function replay(pipeline: StableDiffusionPipeline, testCase: PipelineCase, emphasis: EmphasisMode, report: (line: string) => void) {
  const p = testCase.params;
  const initImage = testCase.img2img ? await loadInitImage(testCase.img2img.input_png) : undefined;
  const stepLatents: Float32Array[] = [];
  const stepTimesteps: number[] = [];
  let prepared: Float32Array | undefined;
  let plannedTimesteps: readonly number[] = [];
  let conditioning = new Float32Array(0);
  let conditioningDims: readonly number[] = [];
  const result = await pipeline.generate(
    { ...jobFor(testCase, emphasis), ...(initImage ? { initImage } : {}) },
    {
      width: p.width,
      height: p.height,
      numInferenceSteps: p.num_inference_steps,
      scheduler: schedulerFor(testCase),
      rng: 'cpu',
      ...(p.strength !== undefined ? { strength: p.strength } : {}),
    },
    {
      keepIntermediates: true,
      onPromptEncoded: (embeddings, dims) => {
        conditioning = embeddings.slice();
        conditioningDims = dims;
      },
      onLatentsPrepared: (latents, timesteps) => {
        prepared = latents.slice();
        plannedTimesteps = timesteps;
      },
      onStepEnd: (_index, timestep, latents) => {
        stepTimesteps.push(timestep);
        stepLatents.push(latents.slice());
      },
    },
  );

  assert.deepEqual(conditioningDims, testCase.text_embeddings.shape, 'encoder_hidden_states shape');
  const conditioningDiff = maxAbsDiff(conditioning, f32(testCase.text_embeddings));
  assert.ok(conditioningDiff <= 1e-5, `text conditioning differs by ${conditioningDiff}`);
  assert.deepEqual(plannedTimesteps.map(Math.fround), testCase.timesteps.map(Math.fround), 'timesteps run');
  assert.deepEqual(
    stepTimesteps.map(Math.fround),
    testCase.step_latents.map((s) => Math.fround(s.t)),
  );
  const start = testCase.img2img ? testCase.img2img.noisy_latents : testCase.initial_latents_scaled!;
  assert.ok(
    maxAbsDiff(prepared!, f32(start)) <= (testCase.img2img ? 1e-4 : 0),
    `prepared latents differ by ${maxAbsDiff(prepared!, f32(start))}`,
  );
  let worstStep = 0;
  for (const [i, golden] of testCase.step_latents.entries()) {
    const diff = maxAbsDiff(stepLatents[i]!, f32(golden.latents));
    worstStep = Math.max(worstStep, diff);
    assert.ok(diff <= 5e-4, `step ${i}: latents differ by ${diff}`);
  }
  const finalDiff = maxAbsDiff(result.finalLatents!, f32(testCase.final_latents));
  assert.ok(finalDiff <= 5e-4, `final latents differ by ${finalDiff}`);
  const decodedDiff = maxAbsDiff(result.decodedImages![0]!, f32(testCase.decoded_image));
  assert.ok(decodedDiff <= 1e-4, `decoded image differs by ${decodedDiff}`);

  const expected = await pngPixels(testCase.output_png);
  const actual = result.images[0]!.rgb;
  assert.equal(actual.length, expected.length);
  let worst = 0;
  let total = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    worst = Math.max(worst, d);
    total += d;
  }
  assert.ok(worst <= 1, `PNG max abs diff ${worst}`);
  assert.ok(total / actual.length <= 2e-3, `PNG mean abs diff ${total / actual.length}`);
  assert.equal(result.images[0]!.width, p.width);
  assert.equal(result.images[0]!.height, p.height);
  report(
    `${emphasis}: conditioning ${conditioningDiff.toExponential(2)} (tol 1e-5), step latents ${worstStep.toExponential(2)}, ` +
      `final ${finalDiff.toExponential(2)} (tol 5e-4), decoded ${decodedDiff.toExponential(2)} (tol 1e-4), ` +
      `PNG max ${worst} (tol 1) mean ${(total / actual.length).toExponential(2)} (tol 2e-3)`,
  );
  return { result, conditioning, conditioningDims } satisfies Replay;
}

describe('pipeline goldens (diffusers 0.35.2, tiny-sd)', () => {
  let pipeline: StableDiffusionPipeline;
  before(async () => {
    pipeline = (await loadEngine(tinyModelDir)).pipeline;
  });
  after(async () => {
    await pipeline.release();
  });

  for (const testCase of plainCases) {
    it(`${testCase.id}: with emphasis off (the diffusers reading) and original (the default), identical and matching diffusers`, async (t) => {
      const off = await replay(pipeline, testCase, 'off', (line) => t.diagnostic(line));
      const original = await replay(pipeline, testCase, 'original', (line) => t.diagnostic(line));
      assert.deepEqual(original.conditioning, off.conditioning, 'an unbracketed prompt under 76 tokens: the same conditioning');
      assert.deepEqual(original.result.finalLatents, off.result.finalLatents);
      assert.deepEqual(original.result.images[0]!.rgb, off.result.images[0]!.rgb, 'the same picture');
    });
  }

  for (const testCase of weightedCases) {
    const emphasis = emphasisFor(testCase);
    it(`${testCase.id}: weighted multi-chunk prompts (${emphasis}, padded to ${testCase.a1111_conditioning!.padding.sequence_length} tokens) match diffusers fed with A1111's conditioning`, async (t) => {
      const { result } = await replay(pipeline, testCase, emphasis, (line) => t.diagnostic(line));
      assert.equal(result.prompt.truncated, false);
      assert.equal(result.negativePrompt.truncated, false);
    });
  }
});
