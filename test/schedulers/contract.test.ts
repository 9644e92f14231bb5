import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tinyModelDir } from '../helpers/fixtures.js';
import { isUserError } from '../../src/errors.js';
import { createScheduler, schedulerNames, type SchedulerName } from '../../src/schedulers/index.js';
import type { Scheduler, SchedulerConfig } from '../../src/schedulers/scheduler.js';
import { SeededNormal } from './test-random.js';

const tinyConfig: SchedulerConfig = JSON.parse(readFileSync(join(tinyModelDir, 'scheduler', 'scheduler_config.json'), 'utf8'));

/** stabilityai/sd-turbo's scheduler_config.json (EulerDiscrete, trailing spacing). */
const turboConfig: SchedulerConfig = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: '0.24.0.dev0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'trailing',
  trained_betas: null,
  use_karras_sigmas: false,
};

/** stabilityai/stable-diffusion-2-1's scheduler_config.json (768 px, v-prediction). */
const vPredictionConfig: SchedulerConfig = {
  _class_name: 'DDIMScheduler',
  _diffusers_version: '0.8.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

const configs: Array<[string, SchedulerConfig]> = [
  ['tiny-sd (PNDM, SD1.5)', tinyConfig],
  ['SD-Turbo-like (Euler, trailing)', turboConfig],
  ['SD 2.1 v-prediction', vPredictionConfig],
];

const shape = [1, 4, 4, 4] as const;
const size = 64;

function sampleInput(): Float32Array {
  const generator = new SeededNormal(7);
  return generator.randn(shape);
}

/** A stand-in model: deterministic, depends on input and timestep. */
function model(xIn: Float32Array, t: number): Float32Array {
  const c = Math.fround(0.1 * Math.sin(t / 100));
  return xIn.map((v) => Math.fround(0.5 * v + c));
}

/** Runs the txt2img loop and returns the final sample and the number of noise draws. */
function runLoop(scheduler: Scheduler, numInferenceSteps: number, seed = 11): { sample: Float32Array; draws: number } {
  scheduler.setTimesteps(numInferenceSteps);
  const generator = new SeededNormal(seed);
  let x: Float32Array = sampleInput().map((v) => Math.fround(v * scheduler.initNoiseSigma));
  for (const t of scheduler.timesteps) {
    const xIn = scheduler.scaleModelInput(x, t);
    x = scheduler.step(model(xIn, t), t, x, { shape, generator }).prevSample;
  }
  return { sample: x, draws: generator.draws };
}

/** How many times diffusers' `step()` draws noise in one run. */
function expectedDraws(name: SchedulerName, scheduler: Scheduler): number {
  switch (name) {
    case 'euler-a':
      return scheduler.timesteps.length;
    case 'lcm':
      return scheduler.timesteps.length - 1;
    case 'ddpm':
      return scheduler.timesteps.filter((t) => t > 0).length;
    default:
      return 0;
  }
}

function expectedTimestepCount(scheduler: Scheduler, numInferenceSteps: number): number {
  // PNDM with skip_prk_steps repeats its second timestep (so n = 1 has none to repeat); everything else has
  // one entry per step and order.
  return numInferenceSteps * scheduler.order + (scheduler.className === 'PNDMScheduler' && numInferenceSteps > 1 ? 1 : 0);
}

function assertStepsError(action: () => void, max: number, value: number): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(isUserError(error), 'a UserError');
    assert.equal(error.identifier, 'scheduler.steps');
    assert.equal(error.message, `Expected \`numInferenceSteps\` to be an integer from 1 to ${max}, got \`${String(value)}\``);
    return true;
  });
}

function createStepped(name: SchedulerName, config: SchedulerConfig): Scheduler {
  const scheduler = createScheduler(name, config);
  scheduler.setTimesteps(5);
  return scheduler;
}

describe('Scheduler contract, every registry name', () => {
  for (const [configName, config] of configs) {
    for (const name of schedulerNames) {
      describe(`${name} from ${configName}`, () => {
        it('constructs, and setTimesteps gives a consistent schedule', () => {
          const scheduler = createScheduler(name, config);
          for (const n of [1, 4, 20]) {
            scheduler.setTimesteps(n);
            assert.equal(scheduler.timesteps.length, expectedTimestepCount(scheduler, n), `timesteps for n = ${n}`);
            for (const t of scheduler.timesteps) {
              assert.ok(Number.isFinite(t), 'finite timestep');
              if (scheduler.timestepDtype === 'int64') assert.ok(Number.isInteger(t), `integer timestep ${t}`);
              else assert.equal(t, Math.fround(t), 'float32 timestep');
            }
            assert.ok(Number.isFinite(scheduler.initNoiseSigma) && scheduler.initNoiseSigma > 0, 'initNoiseSigma');
            if (scheduler.sigmas) {
              assert.equal(scheduler.sigmas.length, scheduler.timesteps.length + 1, 'n + 1 sigmas');
              for (const sigma of scheduler.sigmas) assert.equal(sigma, Math.fround(sigma), 'float32 sigma');
            }
          }
        });

        it('setTimesteps resets all state: a second run is identical, and so is a fresh instance', () => {
          const scheduler = createScheduler(name, config);
          const first = runLoop(scheduler, 8);
          const second = runLoop(scheduler, 8);
          const fresh = runLoop(createScheduler(name, config), 8);
          assert.ok(first.sample.every(Number.isFinite), 'finite result');
          assert.deepEqual(second.sample, first.sample);
          assert.deepEqual(fresh.sample, first.sample);
        });

        it('draws noise exactly when diffusers does', () => {
          const scheduler = createScheduler(name, config);
          const run = runLoop(scheduler, 6);
          assert.equal(run.draws, expectedDraws(name, scheduler));
        });

        it('scaleModelInput, step and addNoise leave their inputs untouched', () => {
          const scheduler = createScheduler(name, config);
          scheduler.setTimesteps(5);
          const t = scheduler.timesteps[0]!;
          const sample = sampleInput();
          const sampleCopy = sample.slice();
          const xIn = scheduler.scaleModelInput(sample, t);
          assert.deepEqual(sample, sampleCopy, 'scaleModelInput mutated its input');
          const output = model(xIn, t);
          const outputCopy = output.slice();
          const result = scheduler.step(output, t, sample, { shape, generator: new SeededNormal(3) });
          assert.deepEqual(sample, sampleCopy, 'step mutated the sample');
          assert.deepEqual(output, outputCopy, 'step mutated the model output');
          assert.notEqual(result.prevSample, sample);
          assert.equal(result.prevSample.length, size);

          const fresh = createScheduler(name, config);
          fresh.setTimesteps(5);
          const noise = new SeededNormal(5).randn(shape);
          const noiseCopy = noise.slice();
          const noisy = fresh.addNoise(sample, noise, fresh.timesteps[0]!);
          assert.deepEqual(sample, sampleCopy, 'addNoise mutated the sample');
          assert.deepEqual(noise, noiseCopy, 'addNoise mutated the noise');
          assert.ok(noisy.every(Number.isFinite));
        });

        it('later history is not corrupted when the caller reuses its buffers', () => {
          const reference = runLoop(createScheduler(name, config), 6).sample;
          const scheduler = createScheduler(name, config);
          scheduler.setTimesteps(6);
          const generator = new SeededNormal(11);
          const x = sampleInput().map((v) => Math.fround(v * scheduler.initNoiseSigma));
          const outputBuffer = new Float32Array(size);
          for (const t of scheduler.timesteps) {
            const xIn = scheduler.scaleModelInput(x, t);
            outputBuffer.set(model(xIn, t));
            const next = scheduler.step(outputBuffer, t, x, { shape, generator }).prevSample;
            x.set(next);
            outputBuffer.fill(Number.NaN);
          }
          assert.deepEqual(x, reference);
        });

        it('writes into caller-owned buffers (two alternating prevSample buffers, one scaled input) with the same result', () => {
          const reference = runLoop(createScheduler(name, config), 6);
          const scheduler = createScheduler(name, config);
          scheduler.setTimesteps(6);
          const generator = new SeededNormal(11);
          let x: Float32Array = sampleInput().map((v) => Math.fround(v * scheduler.initNoiseSigma));
          const buffers = [new Float32Array(size), new Float32Array(size)] as const;
          const scaledInput = new Float32Array(size);
          for (const t of scheduler.timesteps) {
            const xIn = scheduler.scaleModelInput(x, t, scaledInput);
            assert.equal(xIn, scaledInput, 'scaleModelInput returns the buffer it was given');
            const prevSampleOut = x === buffers[0] ? buffers[1] : buffers[0];
            prevSampleOut.fill(Number.NaN);
            x = scheduler.step(model(xIn, t), t, x, { shape, generator, prevSampleOut }).prevSample;
            assert.equal(x, prevSampleOut, 'step returns prevSample in the buffer it was given');
          }
          assert.deepEqual(x, reference.sample);
          assert.equal(generator.draws, reference.draws);
        });

        it('refuses output buffers of the wrong length or sharing memory with the inputs', () => {
          const scheduler = createScheduler(name, config);
          scheduler.setTimesteps(5);
          const t = scheduler.timesteps[0]!;
          const joint = new Float32Array(2 * size);
          const sample = joint.subarray(0, size);
          sample.set(sampleInput());
          assert.throws(() => scheduler.scaleModelInput(sample, t, new Float32Array(size - 1)), RangeError);
          assert.throws(() => scheduler.scaleModelInput(sample, t, joint.subarray(size / 2, size / 2 + size)), RangeError);
          const output = model(sample, t);
          for (const prevSampleOut of [new Float32Array(size + 1), sample, output, joint.subarray(1, size + 1)]) {
            assert.throws(
              () => createStepped(name, config).step(output, t, sample, { shape, generator: new SeededNormal(3), prevSampleOut }),
              RangeError,
            );
          }
          assert.ok(
            createStepped(name, config).step(output, t, sample, {
              shape,
              generator: new SeededNormal(3),
              prevSampleOut: joint.subarray(size),
            }),
          );
        });

        it('rejects step counts it cannot run with a UserError', () => {
          const scheduler = createScheduler(name, config);
          const max = name === 'lcm' ? 50 : 1000;
          for (const bad of [0, -1, 2.5, Number.NaN, max + 1]) assertStepsError(() => scheduler.setTimesteps(bad), max, bad);
          scheduler.setTimesteps(max);
          assert.equal(scheduler.timesteps.length, expectedTimestepCount(scheduler, max));
        });

        it('honours supportsBeginIndex', () => {
          const scheduler = createScheduler(name, config);
          scheduler.setTimesteps(10);
          if (scheduler.supportsBeginIndex) {
            scheduler.setBeginIndex(4);
            const t = scheduler.timesteps[4]!;
            const xIn = scheduler.scaleModelInput(sampleInput(), t);
            const result = scheduler.step(model(xIn, t), t, sampleInput(), { shape, generator: new SeededNormal(1) });
            assert.ok(result.prevSample.every(Number.isFinite));
          } else {
            assert.throws(() => scheduler.setBeginIndex(4));
          }
        });
      });
    }
  }
});
