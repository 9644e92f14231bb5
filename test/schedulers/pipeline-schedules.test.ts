import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadJsonFixture, tinyModelDir } from '../helpers/fixtures.js';
import { createScheduler, schedulerNameForClass } from '../../src/schedulers/index.js';
import type { SchedulerConfig } from '../../src/schedulers/scheduler.js';

interface PipelineCase {
  id: string;
  params: { num_inference_steps: number; strength?: number };
  scheduler: {
    class: string;
    from_config_overrides: SchedulerConfig;
    order: number;
    timesteps_after_set_timesteps: { dtype: string; values: number[] };
    sigmas_after_set_timesteps?: { dtype: string; values: number[] };
  };
  timesteps: number[];
  init_noise_sigma: number;
  img2img?: { scheduler_begin_index: number | null; latent_timestep: number[] };
}

const tinyConfig: SchedulerConfig = JSON.parse(readFileSync(join(tinyModelDir, 'scheduler', 'scheduler_config.json'), 'utf8'));

describe('pipeline-cases.json schedules, built through the registry from the tiny model config', () => {
  for (const testCase of loadJsonFixture<{ cases: PipelineCase[] }>('pipeline-cases.json').cases) {
    it(testCase.id, () => {
      const { scheduler: recorded, params } = testCase;
      const overridden = { ...tinyConfig, ...recorded.from_config_overrides };
      const name = schedulerNameForClass(recorded.class, overridden);
      assert.ok(name, `a registry name for ${recorded.class}`);
      const scheduler = createScheduler(name, tinyConfig);
      assert.equal(scheduler.className, recorded.class);
      scheduler.setTimesteps(params.num_inference_steps);
      assert.equal(scheduler.order, recorded.order);
      assert.equal(scheduler.timestepDtype, recorded.timesteps_after_set_timesteps.dtype);
      assert.deepEqual([...scheduler.timesteps], recorded.timesteps_after_set_timesteps.values);
      if (recorded.sigmas_after_set_timesteps)
        assert.deepEqual([...scheduler.sigmas!], recorded.sigmas_after_set_timesteps.values.map(Math.fround));
      assert.equal(scheduler.initNoiseSigma, Math.fround(testCase.init_noise_sigma));

      let timesteps = [...scheduler.timesteps];
      if (params.strength !== undefined) {
        const initTimestep = Math.min(Math.trunc(params.num_inference_steps * params.strength), params.num_inference_steps);
        const tStart = Math.max(params.num_inference_steps - initTimestep, 0);
        timesteps = timesteps.slice(tStart * scheduler.order);
        const beginIndex = scheduler.supportsBeginIndex ? tStart * scheduler.order : null;
        assert.equal(beginIndex, testCase.img2img!.scheduler_begin_index);
        assert.deepEqual([timesteps[0]], testCase.img2img!.latent_timestep);
      }
      assert.deepEqual(timesteps, testCase.timesteps);
    });
  }
});
