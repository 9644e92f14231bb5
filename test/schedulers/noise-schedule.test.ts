import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { f32 } from '../helpers/fixtures.js';
import { createSchedulerByClassName, schedulerClassNames } from '../../src/schedulers/index.js';
import {
  betasForAlphaBar,
  cumprodFloat32,
  makeBetas,
  rescaleZeroTerminalSnr,
  torchLinspaceFloat32,
  trainingSigmas,
} from '../../src/schedulers/noise-schedule.js';
import { karrasSigmas, logFloat32, sigmaToT } from '../../src/schedulers/sigma-schedules.js';
import { schedulerCases } from './scheduler-fixtures.js';

describe('noise schedule', () => {
  const file = schedulerCases();

  it('reproduces SD1.5 betas and alphas_cumprod bit for bit', () => {
    const betas = makeBetas({ numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' });
    assert.deepEqual(betas, f32(file.betas));
    assert.deepEqual(cumprodFloat32(betas.map((b) => Math.fround(1 - b))), f32(file.alphas_cumprod));
  });

  it('gives every scheduler class the same alphas_cumprod for the SD1.5 config', () => {
    const expected = f32(file.alphas_cumprod);
    for (const className of schedulerClassNames) {
      const scheduler = createSchedulerByClassName(className, file.base_config) as unknown as { alphasCumprod: Float32Array };
      assert.deepEqual(scheduler.alphasCumprod, expected, className);
    }
  });

  it('torch.linspace keeps both end points and stays within float32 rounding of the exact line', () => {
    for (const steps of [2, 7, 16, 17, 1000, 1013]) {
      const values = torchLinspaceFloat32(-6, 6, steps);
      assert.equal(values[0], -6);
      assert.equal(values[steps - 1], 6);
      for (let i = 0; i < steps; i++) {
        const exact = -6 + (12 * i) / (steps - 1);
        assert.ok(Math.abs(values[i]! - exact) <= 4e-6, `steps ${steps}, index ${i}: ${values[i]} vs ${exact}`);
        if (i > 0) assert.ok(values[i]! > values[i - 1]!, 'increasing');
      }
    }
    assert.deepEqual(torchLinspaceFloat32(0.5, 0.5, 1), new Float32Array([0.5]));
  });

  it('linear betas run from beta_start to beta_end', () => {
    const betas = makeBetas({ numTrainTimesteps: 1000, betaStart: 0.0001, betaEnd: 0.02, betaSchedule: 'linear' });
    assert.equal(betas[0], Math.fround(0.0001));
    assert.equal(betas[999], Math.fround(0.02));
  });

  it('squaredcos_cap_v2 follows the cosine alpha_bar and caps at 0.999', () => {
    const betas = betasForAlphaBar(1000);
    const alphaBar = (t: number): number => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
    assert.equal(betas[0], Math.fround(1 - alphaBar(0.001) / alphaBar(0)));
    assert.equal(betas[999], Math.fround(0.999));
    for (let i = 1; i < 1000; i++) assert.ok(betas[i]! >= betas[i - 1]!, `monotonic at ${i}`);
  });

  it('rescale_betas_zero_snr gives zero terminal SNR and keeps the first alpha_bar', () => {
    const betas = makeBetas({ numTrainTimesteps: 1000, betaStart: 0.00085, betaEnd: 0.012, betaSchedule: 'scaled_linear' });
    const rescaled = rescaleZeroTerminalSnr(betas);
    const before = cumprodFloat32(betas.map((b) => Math.fround(1 - b)));
    const after = cumprodFloat32(rescaled.map((b) => Math.fround(1 - b)));
    assert.equal(rescaled[999], 1);
    assert.equal(after[999], 0);
    assert.ok(Math.abs(after[0]! - before[0]!) < 1e-6);

    // DDIM keeps the zero; the sigma-based classes floor it at 2**-24 so the first sigma is finite.
    const ddim = createSchedulerByClassName('DDIMScheduler', { ...file.base_config, rescale_betas_zero_snr: true }) as unknown as {
      alphasCumprod: Float32Array;
    };
    assert.equal(ddim.alphasCumprod[999], 0);
    const euler = createSchedulerByClassName('EulerDiscreteScheduler', {
      ...file.base_config,
      rescale_betas_zero_snr: true,
      timestep_spacing: 'trailing',
    });
    euler.setTimesteps(4);
    assert.equal(euler.sigmas![0], Math.fround(Math.sqrt(Math.fround(Math.fround(1 - 2 ** -24) / 2 ** -24))));
    assert.equal(euler.initNoiseSigma, euler.sigmas![0]);
  });

  it('sigma_to_t inverts the training sigmas and karras sigmas span [sigma_min, sigma_max]', () => {
    const sigmas = trainingSigmas(f32(file.alphas_cumprod));
    const logSigmas = logFloat32(sigmas);
    for (const t of [0, 1, 250, 500, 998, 999]) assert.ok(Math.abs(sigmaToT(sigmas[t]!, logSigmas) - t) < 1e-3, `t = ${t}`);
    assert.equal(sigmaToT(1e-6, logSigmas), 0);
    assert.equal(sigmaToT(1e6, logSigmas), 999);
    const karras = karrasSigmas(sigmas[0]!, sigmas[999]!, 20);
    assert.ok(Math.abs(karras[0]! - sigmas[999]!) < 1e-12);
    assert.ok(Math.abs(karras[19]! - sigmas[0]!) < 1e-12);
    for (let i = 1; i < 20; i++) assert.ok(karras[i]! < karras[i - 1]!);
  });
});
