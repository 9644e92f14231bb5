import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { betaQuantile, regularizedIncompleteBeta } from '../../src/schedulers/beta-distribution.js';
import { interpOnIntegerGrid, numpyArange, numpyLinspace, roundHalfEven } from '../../src/schedulers/numpy-compat.js';
import { integrate } from '../../src/schedulers/quadrature.js';
import { multistepTimesteps, spacedTimesteps } from '../../src/schedulers/timestep-spacing.js';
import { buildFixtureScheduler, schedulerCases } from './scheduler-fixtures.js';
import type { LMSDiscreteScheduler } from '../../src/schedulers/index.js';

describe('numpy primitives', () => {
  it('rounds half to even like np.round', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 3.5, -1.5, -2.5, 2.4999, 2.5001, 7].map(roundHalfEven), [0, 2, 2, 4, -2, -2, 2, 3, 7]);
  });

  it('linspace and arange follow numpy', () => {
    assert.deepEqual([...numpyLinspace(0, 1, 5)], [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual([...numpyLinspace(0, 50, 4, false)], [0, 12.5, 25, 37.5]);
    assert.deepEqual([...numpyLinspace(3, 7, 1)], [3]);
    assert.equal(numpyLinspace(0, 999, 20)[1], 52.578947368421055);
    assert.deepEqual([...numpyArange(1000, 0, -250)], [1000, 750, 500, 250]);
    assert.equal(numpyArange(1000, 0, -1000 / 3).length, 3);
    assert.deepEqual([...numpyArange(0, 0, 1)], []);
  });

  it('interpolates on the integer grid and clamps at the ends', () => {
    const fp = [1, 3, 7];
    assert.equal(interpOnIntegerGrid(0.5, fp), 2);
    assert.equal(interpOnIntegerGrid(1.25, fp), 4);
    assert.equal(interpOnIntegerGrid(-1, fp), 1);
    assert.equal(interpOnIntegerGrid(9, fp), 7);
    assert.equal(interpOnIntegerGrid(2, fp), 7);
  });

  it('spaces timesteps like diffusers', () => {
    assert.deepEqual(spacedTimesteps('leading', 1000, 20, 1, 'round').slice(0, 3), [951, 901, 851]);
    assert.deepEqual(spacedTimesteps('trailing', 1000, 4, 1, 'round'), [999, 749, 499, 249]);
    assert.deepEqual(spacedTimesteps('trailing', 1000, 3, 0, 'round'), [999, 666, 332]);
    assert.deepEqual(spacedTimesteps('linspace', 1000, 4, 0, 'round'), [999, 666, 333, 0]);
    assert.deepEqual(spacedTimesteps('linspace', 1000, 3, 0, 'float32'), [999, 499.5, 0]);
    assert.deepEqual(multistepTimesteps('linspace', 1000, 1000, 3, 0), [999, 666, 333]);
    assert.deepEqual(multistepTimesteps('leading', 1000, 1000, 4, 1), [801, 601, 401, 201]);
    assert.deepEqual(multistepTimesteps('linspace', 1000, 1000, 1, 0), [999]);
    // linspace(0, 999, 4) = 0, 333, 666, 999; linspace(0, 999, 5)[2] = 499.5 rounds to even 500.
    assert.deepEqual(multistepTimesteps('linspace', 1000, 1000, 4, 0), [999, 749, 500, 250]);
  });
});

describe('quadrature (for LMS coefficients)', () => {
  it('integrates polynomials exactly and smooth functions to 1e-12', () => {
    assert.ok(Math.abs(integrate((x) => x ** 3, 0, 2).value - 4) < 1e-14);
    assert.ok(Math.abs(integrate((x) => 3 * x * x - x + 2, 5, -1).value - -126) < 1e-12);
    assert.ok(Math.abs(integrate(Math.exp, 0, 1).value - (Math.E - 1)) < 1e-14);
    assert.ok(Math.abs(integrate(Math.sqrt, 0, 1).value - 2 / 3) < 1e-10);
    assert.ok(Math.abs(integrate((x) => 1 / (1 + x * x), -50, 50).value - 2 * Math.atan(50)) < 1e-10);
    assert.equal(integrate(Math.exp, 2, 2).value, 0);
  });

  it('reproduces the scipy-integrated LMS coefficients of every recorded step', () => {
    const entry = schedulerCases().schedulers.find((e) => e.class === 'LMSDiscreteScheduler')!;
    let worst = 0;
    for (const testCase of entry.cases) {
      const scheduler = buildFixtureScheduler(entry.class, {}) as LMSDiscreteScheduler;
      scheduler.setTimesteps(testCase.num_inference_steps);
      testCase.steps.forEach((step, i) => {
        const order = Math.min(i + 1, 4);
        assert.equal(step.lms_coefficients!.length, order);
        step.lms_coefficients!.forEach((expected, k) => {
          const actual = scheduler.lmsCoefficient(order, i, k);
          // scipy integrated a float32-evaluated integrand; the coefficients agree to float32 resolution.
          worst = Math.max(worst, Math.abs(actual - expected) / Math.max(1, Math.abs(expected)));
        });
      });
    }
    assert.ok(worst < 1e-6, `worst relative difference ${worst}`);
  });
});

describe('beta distribution (for use_beta_sigmas)', () => {
  it('matches closed forms', () => {
    assert.ok(Math.abs(regularizedIncompleteBeta(0.3, 1, 1) - 0.3) < 1e-14);
    assert.ok(Math.abs(regularizedIncompleteBeta(0.3, 2, 1) - 0.09) < 1e-14);
    assert.ok(Math.abs(regularizedIncompleteBeta(0.5, 0.6, 0.6) - 0.5) < 1e-13);
    // I_x(1/2, 1/2) = (2/π)·asin(√x), the arcsine distribution.
    assert.ok(Math.abs(regularizedIncompleteBeta(0.2, 0.5, 0.5) - (2 / Math.PI) * Math.asin(Math.sqrt(0.2))) < 1e-13);
    assert.ok(Math.abs(betaQuantile(0.25, 1, 1) - 0.25) < 1e-14);
    assert.ok(Math.abs(betaQuantile(0.49, 2, 1) - 0.7) < 1e-13);
    assert.ok(Math.abs(betaQuantile(0.5, 0.6, 0.6) - 0.5) < 1e-13);
    assert.ok(Math.abs(betaQuantile(0.3, 0.5, 0.5) - Math.sin((0.3 * Math.PI) / 2) ** 2) < 1e-13);
    assert.equal(betaQuantile(0, 0.6, 0.6), 0);
    assert.equal(betaQuantile(1, 0.6, 0.6), 1);
  });
});
