import assert from 'node:assert/strict';
import { f32, loadJsonFixture, maxAbsDiff, type FixtureTensor } from '../helpers/fixtures.js';
import type { RandomSource } from '../../src/random/random-source.js';
import type { Scheduler, SchedulerConfig } from '../../src/schedulers/scheduler.js';
import { createSchedulerByClassName } from '../../src/schedulers/index.js';

/** Absolute tolerance for replayed trajectories (SOURCE-README: 1e-5; a float32 port reaches ≤ 3.8e-6). */
export const trajectoryTolerance = 1e-5;

/** One recorded step of `scheduler-cases.json`. */
export interface FixtureStep {
  i: number;
  t: number;
  c_t: number;
  x_in: number[];
  prev_sample: number[];
  pred_original_sample?: number[];
  denoised?: number[];
  noise?: number[][];
  lms_coefficients?: number[];
}

/** One `set_timesteps(n)` case of a scheduler entry. */
export interface FixtureCase {
  num_inference_steps: number;
  timesteps: { dtype: 'float32' | 'int64'; values: number[] };
  init_noise_sigma: number;
  order: number;
  sigmas?: { dtype: string; values: number[] };
  x_start: FixtureTensor;
  steps: FixtureStep[];
  final_sample: FixtureTensor;
}

/** One scheduler entry (`schedulers[]` or `config_override_schedulers[]`). */
export interface FixtureScheduler {
  name: string;
  class: string;
  from_config_overrides: Record<string, unknown>;
  config: Record<string, unknown>;
  cases: FixtureCase[];
}

/** One `img2img.cases[]` entry. */
export interface FixtureImg2ImgCase {
  scheduler: string;
  scheduler_overrides: Record<string, unknown>;
  num_inference_steps: number;
  strength: number;
  init_timestep: number;
  timesteps: { dtype: 'float32' | 'int64'; values: number[] };
  num_inference_steps_effective: number;
  t_start: number;
  begin_index: number | null;
  add_noise: { timestep: { dtype: string; values: number[] }; noisy: FixtureTensor };
}

/** The parts of `scheduler-cases.json` the tests use. */
export interface SchedulerCasesFile {
  base_config: Record<string, unknown>;
  sample0: FixtureTensor;
  alphas_cumprod: number[];
  betas: number[];
  schedulers: FixtureScheduler[];
  config_override_schedulers: FixtureScheduler[];
  img2img: { add_noise_noise: FixtureTensor; cases: FixtureImg2ImgCase[] };
}

/** The parsed fixture file. */
export function schedulerCases(): SchedulerCasesFile {
  return loadJsonFixture<SchedulerCasesFile>('scheduler-cases.json');
}

/** `Class.from_config(base_config, **overrides)` for a fixture entry. */
export function buildFixtureScheduler(className: string, overrides: Record<string, unknown>): Scheduler {
  const config: SchedulerConfig = { ...schedulerCases().base_config, ...overrides };
  return createSchedulerByClassName(className, config);
}

/**
 * A generator that replays recorded draws: `expect(step.noise)` before each step loads that step's tensors,
 * `randn` hands them out in order, and `assertConsumed` fails when the scheduler drew fewer; drawing more
 * fails at once.
 */
export class ReplayRandomSource implements RandomSource {
  private queue: number[][] = [];
  private label = '';
  draws = 0;

  expect(tensors: readonly number[][] | undefined, label: string): void {
    this.queue = tensors ? [...tensors] : [];
    this.label = label;
  }

  randn(shape: readonly number[]): Float32Array {
    const next = this.queue.shift();
    if (next === undefined) assert.fail(`${this.label}: scheduler drew noise that diffusers did not draw`);
    assert.equal(
      next.length,
      shape.reduce((a, b) => a * b, 1),
      `${this.label}: noise shape`,
    );
    this.draws++;
    return Float32Array.from(next);
  }

  assertConsumed(): void {
    assert.equal(this.queue.length, 0, `${this.label}: scheduler drew ${this.queue.length} fewer noise tensors than diffusers`);
  }
}

/** The fixture's model: `0.5 * x_in + c_t` elementwise in float32. */
export function fixtureModel(xIn: Float32Array, cT: number): Float32Array {
  const c = Math.fround(cT);
  const out = new Float32Array(xIn.length);
  for (let i = 0; i < xIn.length; i++) out[i] = Math.fround(Math.fround(0.5 * xIn[i]!) + c);
  return out;
}

/** Worst differences seen while replaying one case. */
export interface ReplayReport {
  worst: number;
  where: string;
}

/**
 * Replays one case with the fixture's trajectory rule and compares every recorded tensor. Returns the
 * largest difference (asserting each against `tolerance`).
 */
export function replayCase(scheduler: Scheduler, testCase: FixtureCase, label: string, tolerance = trajectoryTolerance): ReplayReport {
  const shape = schedulerCases().sample0.shape;
  const generator = new ReplayRandomSource();
  const report: ReplayReport = { worst: 0, where: '' };
  const check = (actual: Float32Array | undefined, expected: number[] | undefined, what: string): void => {
    if (expected === undefined) return;
    assert.ok(actual, `${label}: ${what} missing`);
    const diff = maxAbsDiff(actual, f32(expected));
    if (diff > report.worst) {
      report.worst = diff;
      report.where = what;
    }
    assert.ok(diff <= tolerance, `${label}: ${what} differs by ${diff}`);
  };

  let x: Float32Array = new Float32Array(schedulerCases().sample0.data.length);
  const sample0 = f32(schedulerCases().sample0);
  const sigma = scheduler.initNoiseSigma;
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(sample0[i]! * sigma);
  check(x, testCase.x_start.data, 'x_start');
  assert.equal(scheduler.timesteps.length, testCase.steps.length, `${label}: number of steps`);
  scheduler.timesteps.forEach((t, i) => {
    const step = testCase.steps[i]!;
    assert.equal(t, step.t, `${label}: timestep ${i}`);
    const xIn = scheduler.scaleModelInput(x, t);
    check(xIn, step.x_in, `step ${i} x_in`);
    // The recorded c_t follows the fixture's model rule from the timestep value (sin may differ by an ulp).
    assert.ok(Math.abs(Math.fround(0.1 * Math.sin(t / 100)) - Math.fround(step.c_t)) <= 1e-8, `${label}: c_t of step ${i}`);
    const modelOutput = fixtureModel(xIn, step.c_t);
    generator.expect(step.noise, `${label} step ${i}`);
    const out = scheduler.step(modelOutput, t, x, { shape, generator });
    generator.assertConsumed();
    check(out.prevSample, step.prev_sample, `step ${i} prev_sample`);
    check(
      out.predOriginalSample,
      step.pred_original_sample ?? step.denoised,
      `step ${i} ${step.denoised ? 'denoised' : 'pred_original_sample'}`,
    );
    x = out.prevSample;
  });
  check(x, testCase.final_sample.data, 'final_sample');
  return report;
}
