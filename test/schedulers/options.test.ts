import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createSchedulerByClassName,
  DDIMScheduler,
  EulerDiscreteScheduler,
  LCMScheduler,
  type Scheduler,
  type SchedulerConfig,
} from '../../src/schedulers/index.js';
import { schedulerCases } from './scheduler-fixtures.js';
import { SeededNormal } from './test-random.js';

/** Options without diffusers goldens in the fixtures: structural checks of what diffusers' code does. */

const base: SchedulerConfig = schedulerCases().base_config;
const shape = [1, 4, 4, 4];

function build(className: string, overrides: SchedulerConfig): Scheduler {
  return createSchedulerByClassName(className, { ...base, ...overrides });
}

interface Run {
  finals: Float32Array;
  draws: number;
  outputs: Array<{ input: Float32Array; prev: Float32Array; pred: Float32Array | undefined }>;
}

function run(scheduler: Scheduler, numInferenceSteps: number, seed = 5): Run {
  scheduler.setTimesteps(numInferenceSteps);
  const generator = new SeededNormal(seed);
  let x: Float32Array = new SeededNormal(99).randn(shape).map((v) => Math.fround(v * scheduler.initNoiseSigma));
  const outputs: Run['outputs'] = [];
  for (const t of scheduler.timesteps) {
    const xIn = scheduler.scaleModelInput(x, t);
    const c = Math.fround(0.1 * Math.sin(t / 100));
    const out = scheduler.step(
      xIn.map((v) => Math.fround(0.5 * v + c)),
      t,
      x,
      { shape, generator },
    );
    outputs.push({ input: x, prev: out.prevSample, pred: out.predOriginalSample });
    x = out.prevSample;
  }
  return { finals: x, draws: generator.draws, outputs };
}

function assertFinite(values: Float32Array, label: string): void {
  assert.ok(values.every(Number.isFinite), `${label}: non-finite values`);
}

function differ(a: Float32Array, b: Float32Array): boolean {
  return a.some((v, i) => v !== b[i]);
}

describe('DPM-Solver multistep options', () => {
  const dpm = (overrides: SchedulerConfig): Scheduler => build('DPMSolverMultistepScheduler', overrides);

  it('solver_order 3 warms up through orders 1 and 2, then differs from order 2', () => {
    const second = run(dpm({ solver_order: 2 }), 20);
    const third = run(dpm({ solver_order: 3 }), 20);
    assertFinite(third.finals, 'order 3');
    assert.deepEqual(third.outputs[0]!.prev, second.outputs[0]!.prev);
    assert.deepEqual(third.outputs[1]!.prev, second.outputs[1]!.prev);
    assert.ok(differ(third.outputs[2]!.prev, second.outputs[2]!.prev));
  });

  it('the SDE variants draw one noise tensor per step; the ODE ones none', () => {
    for (const algorithm of ['sde-dpmsolver++', 'dpmsolver++']) {
      const result = run(dpm({ algorithm_type: algorithm }), 12);
      assertFinite(result.finals, algorithm);
      assert.equal(result.draws, algorithm.startsWith('sde') ? 12 : 0);
    }
    const sde = run(dpm({ algorithm_type: 'sde-dpmsolver', final_sigmas_type: 'sigma_min' }), 12);
    assertFinite(sde.finals, 'sde-dpmsolver');
    assert.equal(sde.draws, 12);
  });

  it('dpmsolver (noise prediction), heun and every prediction type run', () => {
    for (const overrides of [
      { algorithm_type: 'dpmsolver', final_sigmas_type: 'sigma_min' },
      { algorithm_type: 'dpmsolver', final_sigmas_type: 'sigma_min', solver_order: 3 },
      { solver_type: 'heun' },
      { prediction_type: 'v_prediction' },
      { prediction_type: 'sample' },
      { use_lu_lambdas: true },
      { use_exponential_sigmas: true },
      { use_beta_sigmas: true },
      { thresholding: true, sample_max_value: 1.5 },
    ]) {
      const result = run(dpm(overrides), 10);
      assertFinite(result.finals, JSON.stringify(overrides));
    }
    assert.ok(differ(run(dpm({ solver_type: 'heun' }), 10).finals, run(dpm({}), 10).finals));
  });

  it('the last step goes to sigma 0 and returns the x0 prediction ("zero"), or stays put when h = 0 ("sigma_min")', () => {
    const zero = dpm({ use_karras_sigmas: true });
    const zeroRun = run(zero, 20);
    assert.equal(zero.sigmas![20], 0);
    assertFinite(zeroRun.finals, 'zero');
    const sigmaMin = dpm({ use_karras_sigmas: true, final_sigmas_type: 'sigma_min' });
    const result = run(sigmaMin, 20);
    assert.equal(sigmaMin.sigmas![19], sigmaMin.sigmas![20]);
    const last = result.outputs[19]!;
    assert.deepEqual(last.prev, last.input, 'h = 0 step leaves the sample unchanged');
  });

  it('euler_at_final and lower_order_final change only what they should', () => {
    const plain = run(dpm({ final_sigmas_type: 'sigma_min' }), 20);
    const euler = run(dpm({ final_sigmas_type: 'sigma_min', euler_at_final: true }), 20);
    for (let i = 0; i < 19; i++) assert.deepEqual(euler.outputs[i]!.prev, plain.outputs[i]!.prev, `step ${i}`);
    assert.ok(differ(euler.finals, plain.finals));
    const noLowerOrder = run(dpm({ final_sigmas_type: 'sigma_min', lower_order_final: false }), 10);
    const lowerOrder = run(dpm({ final_sigmas_type: 'sigma_min' }), 10);
    assert.ok(differ(noLowerOrder.finals, lowerOrder.finals));
  });

  it('karras timesteps are the rounded sigma → t conversions', () => {
    const scheduler = dpm({ use_karras_sigmas: true });
    scheduler.setTimesteps(20);
    assert.equal(scheduler.timesteps[0], 999);
    assert.equal(scheduler.timesteps[19], 0);
    for (const t of scheduler.timesteps) assert.ok(Number.isInteger(t));
  });
});

describe('Euler options', () => {
  it('karras, exponential and beta sigmas span the interpolated range and map back to float32 timesteps', () => {
    const reference = build('EulerDiscreteScheduler', {});
    reference.setTimesteps(15);
    for (const option of ['use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas']) {
      const scheduler = build('EulerDiscreteScheduler', { [option]: true });
      const result = run(scheduler, 15);
      assertFinite(result.finals, option);
      const sigmas = scheduler.sigmas!;
      assert.equal(sigmas[0], reference.sigmas![0], `${option}: first sigma`);
      assert.ok(Math.abs(sigmas[14]! - reference.sigmas![14]!) < 1e-6, `${option}: last sigma`);
      assert.equal(sigmas[15], 0);
      for (let i = 1; i < 15; i++) assert.ok(sigmas[i]! < sigmas[i - 1]!, `${option}: decreasing`);
      for (const t of scheduler.timesteps) assert.equal(t, Math.fround(t));
      assert.ok(Math.abs(scheduler.timesteps[0]! - 999) < 1e-3);
    }
  });

  it('sigma_min / sigma_max bound the karras schedule', () => {
    const scheduler = build('EulerDiscreteScheduler', { use_karras_sigmas: true, sigma_min: 0.1, sigma_max: 10 });
    scheduler.setTimesteps(10);
    assert.equal(scheduler.sigmas![0], 10);
    assert.equal(scheduler.sigmas![9], Math.fround(0.1));
  });

  it('log_linear interpolation spaces sigmas geometrically', () => {
    const scheduler = build('EulerDiscreteScheduler', { interpolation_type: 'log_linear' });
    scheduler.setTimesteps(10);
    const sigmas = scheduler.sigmas!;
    const ratio = sigmas[1]! / sigmas[0]!;
    for (let i = 2; i < 11; i++) assert.ok(Math.abs(sigmas[i]! / sigmas[i - 1]! - ratio) < 1e-5);
  });

  it('continuous timesteps for v-prediction are 0.25·log(sigma)', () => {
    const scheduler = build('EulerDiscreteScheduler', { timestep_type: 'continuous', prediction_type: 'v_prediction' });
    scheduler.setTimesteps(8);
    scheduler.timesteps.forEach((t, i) => assert.equal(t, Math.fround(Math.fround(0.25) * Math.fround(Math.log(scheduler.sigmas![i]!)))));
    assertFinite(run(scheduler, 8).finals, 'continuous');
  });

  it('leading spacing makes init_noise_sigma √(σ_max² + 1)', () => {
    const scheduler = build('EulerDiscreteScheduler', { timestep_spacing: 'leading' });
    scheduler.setTimesteps(10);
    const max = scheduler.sigmas![0]!;
    assert.equal(scheduler.initNoiseSigma, Math.fround(Math.sqrt(Math.fround(Math.fround(max * max) + 1))));
    assert.equal(scheduler.timesteps[0], 901);
  });

  it('s_churn > 0 draws noise on the steps inside [s_tmin, s_tmax]', () => {
    const scheduler = build('EulerDiscreteScheduler', {}) as EulerDiscreteScheduler;
    scheduler.sChurn = 1;
    scheduler.sTmin = 0.5;
    const result = run(scheduler, 10);
    const churned = scheduler.sigmas!.slice(0, 10).filter((sigma) => sigma >= 0.5).length;
    assert.equal(result.draws, churned);
    assert.ok(churned > 0 && churned < 10);
    assertFinite(result.finals, 'churn');
  });
});

describe('other classes’ options', () => {
  it('DDIM eta > 0 draws noise every step; clip_sample bounds the x0 prediction', () => {
    const scheduler = build('DDIMScheduler', {}) as DDIMScheduler;
    scheduler.eta = 1;
    assert.equal(run(scheduler, 10).draws, 10);
    const clipped = run(build('DDIMScheduler', { clip_sample: true, clip_sample_range: 0.5 }), 10);
    for (const step of clipped.outputs) assert.ok(step.pred!.every((v) => Math.abs(v) <= 0.5));
  });

  it('DDPM thresholding normalises the x0 prediction; every variance type runs', () => {
    const thresholded = run(build('DDPMScheduler', { thresholding: true, sample_max_value: 2 }), 10);
    for (const step of thresholded.outputs) assert.ok(step.pred!.every((v) => Math.abs(v) <= 1 + 1e-7));
    for (const varianceType of ['fixed_small_log', 'fixed_large']) {
      const result = run(build('DDPMScheduler', { variance_type: varianceType }), 10);
      assertFinite(result.finals, varianceType);
      assert.equal(result.draws, 10);
    }
    assertFinite(run(build('DDPMScheduler', { beta_schedule: 'sigmoid' }), 10).finals, 'sigmoid betas');
  });

  it('PNDM without skip_prk_steps runs 12 Runge–Kutta stages before PLMS', () => {
    const scheduler = build('PNDMScheduler', { skip_prk_steps: false });
    scheduler.setTimesteps(10);
    assert.equal(scheduler.timesteps.length, 12 + 7);
    assert.deepEqual(scheduler.timesteps.slice(0, 4), [901, 851, 851, 801]);
    assertFinite(run(scheduler, 10).finals, 'PRK');
  });

  it('UniPC: bh1, order 3, no x0 prediction and a disabled corrector all change the result', () => {
    const reference = run(build('UniPCMultistepScheduler', {}), 12).finals;
    for (const overrides of [
      { solver_type: 'bh1', final_sigmas_type: 'sigma_min' },
      { solver_order: 3 },
      { predict_x0: false, final_sigmas_type: 'sigma_min' },
      { disable_corrector: [0, 1, 2] },
      { use_karras_sigmas: true },
    ]) {
      const result = run(build('UniPCMultistepScheduler', overrides), 12).finals;
      assertFinite(result, JSON.stringify(overrides));
      assert.ok(differ(result, reference), JSON.stringify(overrides));
    }
  });

  it('UniPC bh1 or predict_x0 = false ending at sigma 0 turn NaN on the last step exactly as diffusers does (∞ · 0)', () => {
    for (const overrides of [{ solver_type: 'bh1' }, { predict_x0: false }]) {
      const result = run(build('UniPCMultistepScheduler', overrides), 6);
      for (let i = 0; i < 5; i++) assertFinite(result.outputs[i]!.prev, `${JSON.stringify(overrides)} step ${i}`);
      assert.ok(result.finals.every(Number.isNaN), JSON.stringify(overrides));
    }
  });

  it('LCM boundary scalings: c_skip → 1 and c_out → 0 at t = 0, and timestep_scaling sharpens them', () => {
    const scheduler = build('LCMScheduler', {}) as LCMScheduler;
    assert.deepEqual(scheduler.boundaryScalings(0), [1, 0]);
    const [cSkip, cOut] = scheduler.boundaryScalings(999);
    assert.ok(cSkip < 1e-6 && Math.abs(cOut - 1) < 1e-6);
    const soft = build('LCMScheduler', { timestep_scaling: 0.01 }) as LCMScheduler;
    assert.ok(soft.boundaryScalings(10)[0] > 0.5);
  });

  it('LCM strength shortens the distillation grid', () => {
    const scheduler = build('LCMScheduler', {}) as LCMScheduler;
    scheduler.strength = 0.5;
    scheduler.setTimesteps(4);
    assert.deepEqual(scheduler.timesteps, [499, 379, 259, 139]);
    assert.throws(() => scheduler.setTimesteps(26), /from 1 to 25/);
  });

  it('LMS with karras sigmas runs and keeps float32 timesteps', () => {
    const scheduler = build('LMSDiscreteScheduler', { use_karras_sigmas: true });
    assertFinite(run(scheduler, 12).finals, 'LMS karras');
    for (const t of scheduler.timesteps) assert.equal(t, Math.fround(t));
  });
});
