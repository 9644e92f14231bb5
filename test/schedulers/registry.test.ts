import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tinyModelDir } from '../helpers/fixtures.js';
import { isUserError } from '../../src/errors.js';
import {
  createScheduler,
  createSchedulerByClassName,
  isSchedulerName,
  schedulerClassNames,
  schedulerLabel,
  schedulerNameForClass,
  schedulerNames,
  type SchedulerName,
} from '../../src/schedulers/index.js';
import type { SchedulerConfig } from '../../src/schedulers/scheduler.js';

const tinyConfig: SchedulerConfig = JSON.parse(readFileSync(join(tinyModelDir, 'scheduler', 'scheduler_config.json'), 'utf8'));

function assertUserError(action: () => unknown, identifier: string, pattern: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    assert.equal(error.identifier, identifier);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('scheduler registry', () => {
  it('lists the names, in order, with AUTOMATIC1111 labels', () => {
    assert.deepEqual(
      [...schedulerNames],
      ['euler', 'euler-a', 'ddim', 'dpmpp-2m', 'dpmpp-2m-karras', 'lcm', 'pndm', 'lms', 'unipc', 'ddpm'],
    );
    assert.deepEqual(schedulerNames.map(schedulerLabel), [
      'Euler',
      'Euler a',
      'DDIM',
      'DPM++ 2M',
      'DPM++ 2M Karras',
      'LCM',
      'PLMS',
      'LMS',
      'UniPC',
      'DDPM',
    ]);
  });

  it('recognises names', () => {
    for (const name of schedulerNames) assert.equal(isSchedulerName(name), true);
    for (const other of ['Euler', 'euler_a', 'dpm++2m', '', 'heun']) assert.equal(isSchedulerName(other), false);
  });

  it('builds the right class with the sampler-defining overrides', () => {
    const expected: Record<SchedulerName, string> = {
      euler: 'EulerDiscreteScheduler',
      'euler-a': 'EulerAncestralDiscreteScheduler',
      ddim: 'DDIMScheduler',
      'dpmpp-2m': 'DPMSolverMultistepScheduler',
      'dpmpp-2m-karras': 'DPMSolverMultistepScheduler',
      lcm: 'LCMScheduler',
      pndm: 'PNDMScheduler',
      lms: 'LMSDiscreteScheduler',
      unipc: 'UniPCMultistepScheduler',
      ddpm: 'DDPMScheduler',
    };
    for (const name of schedulerNames) {
      const scheduler = createScheduler(name, tinyConfig);
      assert.equal(scheduler.className, expected[name]);
      assert.equal(scheduler.config['_class_name'], expected[name]);
      // The model folder's noise schedule is carried over.
      assert.equal(scheduler.config['beta_schedule'], 'scaled_linear');
      assert.equal(scheduler.config['steps_offset'], 1);
    }
    const karras = createScheduler('dpmpp-2m-karras', { ...tinyConfig, algorithm_type: 'sde-dpmsolver++', solver_order: 3 });
    assert.equal(karras.config['algorithm_type'], 'dpmsolver++');
    assert.equal(karras.config['solver_order'], 2);
    assert.equal(karras.config['use_karras_sigmas'], true);
    const plain = createScheduler('dpmpp-2m', { ...tinyConfig, use_karras_sigmas: true });
    assert.equal(plain.config['use_karras_sigmas'], false);
  });

  it('rejects unknown names and classes with a UserError', () => {
    assertUserError(
      () => createScheduler('heun' as SchedulerName, tinyConfig),
      'scheduler.name',
      /Unknown scheduler `heun`; choose one of euler, euler-a/,
    );
    assertUserError(() => schedulerLabel('nope' as SchedulerName), 'scheduler.name', /Unknown scheduler `nope`/);
    assertUserError(
      () => createSchedulerByClassName('HeunDiscreteScheduler', tinyConfig),
      'scheduler.class',
      /Unsupported scheduler class `HeunDiscreteScheduler`/,
    );
  });

  it('builds every supported class by its diffusers name', () => {
    assert.equal(schedulerClassNames.length, 9);
    for (const className of schedulerClassNames) assert.equal(createSchedulerByClassName(className, tinyConfig).className, className);
  });

  it('finds the name that reproduces a model folder scheduler', () => {
    assert.equal(schedulerNameForClass('PNDMScheduler', tinyConfig), 'pndm');
    assert.equal(schedulerNameForClass('EulerDiscreteScheduler', { timestep_spacing: 'trailing' }), 'euler');
    assert.equal(schedulerNameForClass('EulerAncestralDiscreteScheduler', {}), 'euler-a');
    assert.equal(schedulerNameForClass('DDIMScheduler', {}), 'ddim');
    assert.equal(schedulerNameForClass('LCMScheduler', {}), 'lcm');
    assert.equal(schedulerNameForClass('LMSDiscreteScheduler', {}), 'lms');
    assert.equal(schedulerNameForClass('UniPCMultistepScheduler', {}), 'unipc');
    assert.equal(schedulerNameForClass('DDPMScheduler', {}), 'ddpm');
    assert.equal(schedulerNameForClass('DPMSolverMultistepScheduler', {}), 'dpmpp-2m');
    assert.equal(schedulerNameForClass('DPMSolverMultistepScheduler', { use_karras_sigmas: true }), 'dpmpp-2m-karras');
    assert.equal(schedulerNameForClass('DPMSolverMultistepScheduler', { solver_order: 3 }), undefined);
    assert.equal(schedulerNameForClass('DPMSolverMultistepScheduler', { algorithm_type: 'sde-dpmsolver++' }), undefined);
    assert.equal(schedulerNameForClass('HeunDiscreteScheduler', {}), undefined);
  });

  it('round-trips: the name found for a built scheduler rebuilds the same configuration', () => {
    for (const name of schedulerNames) {
      const scheduler = createScheduler(name, tinyConfig);
      const found = schedulerNameForClass(scheduler.className, scheduler.config);
      assert.equal(found, name);
      assert.deepEqual(createScheduler(found!, scheduler.config).config, scheduler.config);
    }
  });
});
