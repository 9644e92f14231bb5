import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readModelFolder } from '../../src/model/model-folder.js';
import { detectModelProfile, withModelDefaults } from '../../src/model/model-profile.js';
import { tinyModelDir, tinySdxlModelDir } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'latentcord-profile-'));
let n = 0;

/** A copy of a tiny model folder with edited configs (and, optionally, another folder name). */
function folderWith(edit: { scheduler?: Record<string, unknown>; unet?: Record<string, unknown>; source?: string; name?: string }): string {
  const dir = join(work, edit.name ?? `m${n++}`);
  cpSync(edit.source ?? tinyModelDir, dir, { recursive: true });
  if (edit.scheduler) writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify(edit.scheduler));
  if (edit.unet) {
    const path = join(dir, 'unet', 'config.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), ...edit.unet }));
  }
  return dir;
}

const defaults = { steps: 25, guidance: 7.5, scheduler: 'dpmpp-2m-karras', maxSteps: 50, width: 64, height: 64, maxPixels: 589824 };
const trailingEuler = (className = 'EulerDiscreteScheduler') => ({
  _class_name: className,
  timestep_spacing: 'trailing',
  num_train_timesteps: 1000,
});

describe('model profiles (few-step models get their own defaults)', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the tiny SD 1.5-style folder (PNDM config) is a standard model at its native size; defaults stay', () => {
    const profile = detectModelProfile(readModelFolder(tinyModelDir));
    assert.equal(profile.kind, 'standard');
    assert.deepEqual(profile.size, { width: 64, height: 64, reason: "the UNet's sample_size 8 × VAE factor 8" });
    assert.equal(withModelDefaults(defaults, profile, 'auto'), defaults);
  });

  it("the default size is the model's native size (diffusers' default height/width), maxPixels raised to allow it", () => {
    const profile = detectModelProfile(readModelFolder(folderWith({ unet: { sample_size: 128 } })));
    assert.deepEqual([profile.size.width, profile.size.height], [1024, 1024]);
    const applied = withModelDefaults({ ...defaults, width: 512, height: 512 }, profile, 'auto');
    assert.deepEqual(applied, { ...defaults, width: 1024, height: 1024, maxPixels: 1024 * 1024 });
    const generous = withModelDefaults({ ...defaults, maxPixels: 2048 * 2048 }, profile, 'auto');
    assert.equal(generous.maxPixels, 2048 * 2048, 'a larger configured limit stays');
    assert.equal(withModelDefaults(defaults, profile, 'config'), defaults, '`config` keeps the configured size');
  });

  it('SD-Turbo style (Euler, trailing spacing): 1 step, no guidance', () => {
    const profile = detectModelProfile(readModelFolder(folderWith({ scheduler: trailingEuler() })));
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

  it('SDXL-Turbo style (an SDXL folder, trailing Euler a): 1 step, no guidance, 512×512 (its training size)', () => {
    const profile = detectModelProfile(
      readModelFolder(
        folderWith({ source: tinySdxlModelDir, scheduler: trailingEuler('EulerAncestralDiscreteScheduler'), unet: { sample_size: 128 } }),
      ),
    );
    assert.equal(profile.kind, 'turbo');
    assert.match(profile.reason, /SDXL-Turbo style/);
    assert.deepEqual(profile.recommended, { steps: 1, guidance: 0, scheduler: 'euler' });
    assert.deepEqual([profile.size.width, profile.size.height], [512, 512]);
  });

  it('SDXL-Lightning style (trailing Euler, named so): the step count of its name, no guidance, native size', () => {
    for (const [name, steps] of [
      ['Cyronius--sdxl-lightning-4step-onnx-web', 4],
      ['sdxl_lightning_8steps', 8],
      ['my-lightning-merge', 4],
    ] as const) {
      const profile = detectModelProfile(
        readModelFolder(folderWith({ source: tinySdxlModelDir, scheduler: trailingEuler(), unet: { sample_size: 128 }, name })),
      );
      assert.equal(profile.kind, 'lightning', name);
      assert.deepEqual(profile.recommended, { steps, guidance: 0, scheduler: 'euler' }, name);
      assert.deepEqual([profile.size.width, profile.size.height], [1024, 1024]);
    }
  });

  it('SDXL base (leading Euler): a standard model at 1024×1024 with the tiny SDXL’s 64×64', () => {
    const tiny = detectModelProfile(readModelFolder(tinySdxlModelDir));
    assert.equal(tiny.kind, 'standard');
    assert.deepEqual([tiny.size.width, tiny.size.height], [64, 64]);
    const base = detectModelProfile(readModelFolder(folderWith({ source: tinySdxlModelDir, unet: { sample_size: 128 } })));
    assert.deepEqual([base.size.width, base.size.height], [1024, 1024]);
  });

  it('never raises steps above the configured limit', () => {
    const profile = detectModelProfile(readModelFolder(folderWith({ scheduler: { _class_name: 'LCMScheduler' } })));
    assert.equal(withModelDefaults({ ...defaults, maxSteps: 2 }, profile, 'auto').steps, 2);
  });
});
