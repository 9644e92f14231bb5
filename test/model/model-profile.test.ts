import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readModelFolder } from '../../src/model/model-folder.js';
import { detectModelProfile, withModelDefaults } from '../../src/model/model-profile.js';
import { tinyModelDir } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'latentcord-profile-'));
let n = 0;

/** A copy of the tiny model's JSON files (no weights needed) with edited configs. */
function folderWith(edit: { scheduler?: Record<string, unknown>; unet?: Record<string, unknown> }): string {
  const dir = join(work, `m${n++}`);
  cpSync(tinyModelDir, dir, { recursive: true });
  if (edit.scheduler) writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify(edit.scheduler));
  if (edit.unet) {
    const path = join(dir, 'unet', 'config.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...edit.unet }));
  }
  return dir;
}

const defaults = { steps: 25, guidance: 7.5, scheduler: 'dpmpp-2m-karras', maxSteps: 50, width: 512 };

describe('model profiles (few-step models get their own defaults)', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the tiny SD 1.5-style folder (PNDM config) is a standard model; defaults stay', () => {
    const profile = detectModelProfile(readModelFolder(tinyModelDir));
    assert.equal(profile.kind, 'standard');
    assert.equal(withModelDefaults(defaults, profile, 'auto'), defaults);
  });

  it('SD-Turbo style (Euler, trailing spacing): 1 step, no guidance', () => {
    const profile = detectModelProfile(
      readModelFolder(
        folderWith({ scheduler: { _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'trailing', num_train_timesteps: 1000 } }),
      ),
    );
    assert.equal(profile.kind, 'turbo');
    assert.deepEqual(withModelDefaults(defaults, profile, 'auto'), { ...defaults, steps: 1, guidance: 0, scheduler: 'euler' });
    assert.equal(withModelDefaults(defaults, profile, 'config'), defaults, '`config` keeps the configured defaults');
  });

  it('LCM-distilled UNet (time_cond_proj_dim): 4 LCM steps with the guidance embedding', () => {
    const profile = detectModelProfile(
      readModelFolder(folderWith({ scheduler: { _class_name: 'LCMScheduler' }, unet: { time_cond_proj_dim: 256 } })),
    );
    assert.equal(profile.kind, 'lcm');
    assert.deepEqual(profile.recommended, { steps: 4, guidance: 8, scheduler: 'lcm' });
  });

  it('LCM scheduler without the embedding (LCM-LoRA style): guidance off', () => {
    const profile = detectModelProfile(readModelFolder(folderWith({ scheduler: { _class_name: 'LCMScheduler' } })));
    assert.deepEqual(profile.recommended, { steps: 4, guidance: 1, scheduler: 'lcm' });
  });

  it('never raises steps above the configured limit', () => {
    const profile = detectModelProfile(readModelFolder(folderWith({ scheduler: { _class_name: 'LCMScheduler' } })));
    assert.equal(withModelDefaults({ ...defaults, maxSteps: 2 }, profile, 'auto').steps, 2);
  });
});
