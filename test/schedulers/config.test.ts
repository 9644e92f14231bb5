import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { parseConfigNumber } from '../../src/schedulers/config.js';
import { createSchedulerByClassName, DPMSolverMultistepScheduler, EulerDiscreteScheduler } from '../../src/schedulers/index.js';
import type { SchedulerConfig } from '../../src/schedulers/scheduler.js';
import { buildFixtureScheduler, schedulerCases } from './scheduler-fixtures.js';

function assertConfigError(className: string, config: SchedulerConfig, pattern: RegExp): void {
  assert.throws(
    () => createSchedulerByClassName(className, config),
    (error: unknown) => {
      assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
      assert.equal(error.identifier, 'scheduler.config');
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('scheduler configuration (from_config semantics)', () => {
  const file = schedulerCases();

  for (const entry of [...file.schedulers, ...file.config_override_schedulers]) {
    it(`resolves the same configuration as diffusers: ${entry.name}`, () => {
      const scheduler = buildFixtureScheduler(entry.class, entry.from_config_overrides);
      const expected: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(entry.config)) {
        if (key === '_use_default_values') continue;
        expected[key] = typeof value === 'string' ? (parseConfigNumber(value) ?? value) : value;
      }
      assert.deepEqual({ ...scheduler.config }, expected);
    });
  }

  it('takes class defaults for missing keys and ignores unknown ones', () => {
    const scheduler = new EulerDiscreteScheduler({ some_future_option: 3, beta_schedule: 'scaled_linear' });
    assert.equal(scheduler.config['beta_start'], 0.0001);
    assert.equal(scheduler.config['timestep_spacing'], 'linspace');
    assert.equal(scheduler.config['beta_schedule'], 'scaled_linear');
    assert.equal(scheduler.config['some_future_option'], 3);
    scheduler.setTimesteps(10);
    assert.equal(scheduler.timesteps.length, 10);
  });

  it('reads "-inf" strings and other spellings of non-finite numbers', () => {
    assert.equal(parseConfigNumber('-inf'), Number.NEGATIVE_INFINITY);
    assert.equal(parseConfigNumber('Infinity'), Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(parseConfigNumber('nan')));
    assert.equal(parseConfigNumber(-5.1), -5.1);
    assert.equal(parseConfigNumber('-5.1'), undefined);
    const fromString = new DPMSolverMultistepScheduler({ lambda_min_clipped: '-inf' });
    const fromNumber = new DPMSolverMultistepScheduler({ lambda_min_clipped: Number.NEGATIVE_INFINITY });
    fromString.setTimesteps(25);
    fromNumber.setTimesteps(25);
    assert.deepEqual(fromString.timesteps, fromNumber.timesteps);
  });

  it('clips lambda for cosine schedules when lambda_min_clipped is set', () => {
    const clipped = new DPMSolverMultistepScheduler({ beta_schedule: 'squaredcos_cap_v2', lambda_min_clipped: -5.1 });
    const unclipped = new DPMSolverMultistepScheduler({ beta_schedule: 'squaredcos_cap_v2' });
    clipped.setTimesteps(10);
    unclipped.setTimesteps(10);
    assert.equal(unclipped.timesteps[0], 999);
    assert.ok(clipped.timesteps[0]! < 999, `first timestep ${clipped.timesteps[0]}`);
  });

  it('maps other solvers’ names the way diffusers does', () => {
    const dpm = createSchedulerByClassName('DPMSolverMultistepScheduler', {
      algorithm_type: 'deis',
      final_sigmas_type: 'sigma_min',
      solver_type: 'bh2',
    });
    assert.equal(dpm.config['algorithm_type'], 'dpmsolver++');
    assert.equal(dpm.config['solver_type'], 'midpoint');
    const unipc = createSchedulerByClassName('UniPCMultistepScheduler', { solver_type: 'midpoint' });
    assert.equal(unipc.config['solver_type'], 'bh2');
  });

  it('rejects the values diffusers rejects, naming class, key and value', () => {
    assertConfigError(
      'EulerDiscreteScheduler',
      { beta_schedule: 'cubic' },
      /EulerDiscreteScheduler: expected `beta_schedule` to be one of "linear", "scaled_linear", "squaredcos_cap_v2", got `"cubic"`/,
    );
    assertConfigError(
      'DDIMScheduler',
      { timestep_spacing: 'uniform' },
      /`timestep_spacing` to be one of "linspace", "leading", "trailing"/,
    );
    assertConfigError('DDPMScheduler', { prediction_type: 'flow' }, /`prediction_type`/);
    assertConfigError('EulerDiscreteScheduler', { use_karras_sigmas: true, use_exponential_sigmas: true }, /use_karras_sigmas/);
    assertConfigError('LMSDiscreteScheduler', { num_train_timesteps: 0 }, /`num_train_timesteps` to be an integer of at least 1/);
    assertConfigError(
      'DPMSolverMultistepScheduler',
      { algorithm_type: 'dpmsolver' },
      /`final_sigmas_type` "zero" is not supported for `algorithm_type` "dpmsolver"/,
    );
    assertConfigError('DPMSolverMultistepScheduler', { algorithm_type: 'unipc' }, /`algorithm_type`/);
    assertConfigError('DPMSolverMultistepScheduler', { solver_type: 'rk4' }, /`solver_type`/);
    assertConfigError('UniPCMultistepScheduler', { solver_type: 'rk4' }, /`solver_type`/);
    assertConfigError('EulerAncestralDiscreteScheduler', { prediction_type: 'sample' }, /does not implement `prediction_type` "sample"/);
    assertConfigError('PNDMScheduler', { prediction_type: 'sample' }, /`prediction_type` to be one of "epsilon", "v_prediction"/);
    assertConfigError('DDIMScheduler', { trained_betas: [0.1, 0.2] }, /`trained_betas` to be a list of 1000 numbers/);
    assertConfigError('DDIMScheduler', { beta_start: 'small' }, /`beta_start` to be a number, got `"small"`/);
    assertConfigError('EulerDiscreteScheduler', { use_karras_sigmas: 'yes' }, /`use_karras_sigmas` to be true or false/);
    assertConfigError('LCMScheduler', { original_inference_steps: 2000 }, /`original_inference_steps` to be an integer from 1 to 1000/);
  });

  it('accepts trained_betas in place of a named schedule', () => {
    const betas = Array.from({ length: 1000 }, (_, i) => 0.0001 + (i * (0.02 - 0.0001)) / 999);
    // diffusers does not look at beta_schedule when trained_betas are given.
    const scheduler = createSchedulerByClassName('DDIMScheduler', { trained_betas: betas, beta_schedule: 'custom' });
    scheduler.setTimesteps(10);
    assert.equal(scheduler.timesteps.length, 10);
    const alphas = (scheduler as unknown as { alphasCumprod: Float32Array }).alphasCumprod;
    assert.equal(alphas[0], Math.fround(1 - Math.fround(betas[0]!)));
  });
});
