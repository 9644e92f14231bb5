import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { f32, maxAbsDiff } from '../helpers/fixtures.js';
import { buildFixtureScheduler, schedulerCases } from './scheduler-fixtures.js';
import type { Scheduler } from '../../src/schedulers/scheduler.js';

/** diffusers 0.35.2 `StableDiffusionImg2ImgPipeline.get_timesteps`, including `set_begin_index`. */
function getTimesteps(
  scheduler: Scheduler,
  numInferenceSteps: number,
  strength: number,
): { timesteps: number[]; tStart: number; beginIndex: number | null } {
  const initTimestep = Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
  const tStart = Math.max(numInferenceSteps - initTimestep, 0);
  const timesteps = scheduler.timesteps.slice(tStart * scheduler.order);
  let beginIndex: number | null = null;
  if (scheduler.supportsBeginIndex) {
    beginIndex = tStart * scheduler.order;
    scheduler.setBeginIndex(beginIndex);
  }
  return { timesteps, tStart, beginIndex };
}

describe('scheduler-cases.json img2img (get_timesteps, set_begin_index, add_noise)', () => {
  const file = schedulerCases();
  const sample0 = f32(file.sample0);
  const noise = f32(file.img2img.add_noise_noise);

  it('covers every recorded scheduler and strength', () => {
    assert.equal(file.img2img.cases.length, 18);
    assert.deepEqual([...new Set(file.img2img.cases.map((c) => c.strength))].sort(), [0.3, 0.7, 1]);
  });

  for (const testCase of file.img2img.cases) {
    it(`${testCase.scheduler} ${JSON.stringify(testCase.scheduler_overrides)} strength ${testCase.strength}`, () => {
      const scheduler = buildFixtureScheduler(testCase.scheduler, testCase.scheduler_overrides);
      scheduler.setTimesteps(testCase.num_inference_steps);
      const { timesteps, tStart, beginIndex } = getTimesteps(scheduler, testCase.num_inference_steps, testCase.strength);

      assert.equal(tStart, testCase.t_start);
      assert.equal(beginIndex, testCase.begin_index);
      assert.equal(scheduler.timestepDtype, testCase.timesteps.dtype);
      assert.deepEqual(timesteps, testCase.timesteps.values);
      // get_timesteps returns `num_inference_steps - t_start` (for PNDM one fewer than its timesteps).
      assert.equal(testCase.num_inference_steps - tStart, testCase.num_inference_steps_effective);
      assert.equal(timesteps[0], testCase.add_noise.timestep.values[0]);

      const noisy = scheduler.addNoise(sample0, noise, timesteps[0]!);
      const diff = maxAbsDiff(noisy, f32(testCase.add_noise.noisy));
      assert.ok(diff <= 1e-6, `add_noise differs by ${diff}`);
    });
  }

  it('with a begin index, the first step starts there even when the timestep repeats earlier', () => {
    // DPM++ 2M Karras, 50 steps, has timestep 1 twice (…, 2, 1, 1, 0); a begin index on the first 1 must win.
    const scheduler = buildFixtureScheduler('DPMSolverMultistepScheduler', {
      algorithm_type: 'dpmsolver++',
      solver_order: 2,
      use_karras_sigmas: true,
    });
    scheduler.setTimesteps(50);
    const first = scheduler.timesteps.indexOf(1);
    assert.equal(scheduler.timesteps[first + 1], 1, 'fixture schedule repeats timestep 1');
    scheduler.setBeginIndex(first);
    const sigmas = scheduler.sigmas!;
    const alpha = Math.fround(1 / Math.fround(Math.sqrt(Math.fround(Math.fround(sigmas[first]! * sigmas[first]!) + 1))));
    const noisy = scheduler.addNoise(new Float32Array([1]), new Float32Array([0]), 1);
    assert.equal(noisy[0], alpha);
  });
});
