import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFixtureScheduler, replayCase, schedulerCases, trajectoryTolerance, type FixtureScheduler } from './scheduler-fixtures.js';

const file = schedulerCases();
const entries: Array<[string, FixtureScheduler]> = [
  ...file.schedulers.map((entry): [string, FixtureScheduler] => ['schedulers', entry]),
  ...file.config_override_schedulers.map((entry): [string, FixtureScheduler] => ['config_override_schedulers', entry]),
];

describe('scheduler-cases.json trajectories (diffusers 0.35.2)', () => {
  it('covers every fixture entry', () => {
    assert.equal(file.schedulers.length, 10);
    assert.equal(file.config_override_schedulers.length, 5);
  });

  for (const [section, entry] of entries) {
    describe(`${section}: ${entry.name}`, () => {
      for (const testCase of entry.cases) {
        it(`n = ${testCase.num_inference_steps}`, () => {
          const label = `${entry.name} n=${testCase.num_inference_steps}`;
          const scheduler = buildFixtureScheduler(entry.class, entry.from_config_overrides);
          assert.equal(scheduler.className, entry.class);
          scheduler.setTimesteps(testCase.num_inference_steps);

          assert.equal(scheduler.timestepDtype, testCase.timesteps.dtype, `${label}: timestep dtype`);
          assert.deepEqual([...scheduler.timesteps], testCase.timesteps.values, `${label}: timesteps`);
          assert.equal(scheduler.initNoiseSigma, Math.fround(testCase.init_noise_sigma), `${label}: init_noise_sigma`);
          assert.equal(scheduler.order, testCase.order, `${label}: order`);
          if (testCase.sigmas) {
            assert.ok(scheduler.sigmas, `${label}: sigmas`);
            assert.deepEqual([...scheduler.sigmas], testCase.sigmas.values.map(Math.fround), `${label}: sigmas`);
          }

          const report = replayCase(scheduler, testCase, label, trajectoryTolerance);
          assert.ok(report.worst <= trajectoryTolerance, `${label}: worst ${report.worst} at ${report.where}`);
        });
      }
    });
  }
});
