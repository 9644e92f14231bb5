import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { effectiveGuildSettings, findSettingConflicts, validateGuildSettings } from '../../src/settings/index.js';
import { settingsWith, testDefaults } from './settings-fixture.js';

function errorOf(run: () => unknown): { identifier: string; message: string } {
  try {
    run();
  } catch (error) {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    return { identifier: error.identifier, message: error.message };
  }
  assert.fail('expected an error');
}

describe('validateGuildSettings', () => {
  it('returns the defaults when nothing is overridden, frozen', () => {
    const settings = validateGuildSettings({}, testDefaults);
    assert.deepEqual(settings, testDefaults);
    assert.ok(Object.isFrozen(settings));
  });

  it('lays valid overrides over the defaults', () => {
    const settings = validateGuildSettings({ steps: 40, scheduler: 'ddim', bannedWords: ['gore'] }, testDefaults);
    assert.equal(settings.steps, 40);
    assert.equal(settings.scheduler, 'ddim');
    assert.deepEqual(settings.bannedWords, ['gore']);
    assert.equal(settings.guidance, testDefaults.guidance);
  });

  it('refuses unknown keys with a suggestion', () => {
    assert.deepEqual(
      errorOf(() => validateGuildSettings({ maxStep: 10 }, testDefaults)),
      {
        identifier: 'settings.unknownKey',
        message: 'There is no setting `maxStep`. Did you mean `maxSteps`?',
      },
    );
  });

  it('refuses allowDMs, which only the configuration file sets', () => {
    assert.equal(errorOf(() => validateGuildSettings({ allowDMs: true }, testDefaults)).identifier, 'settings.configOnly');
  });

  it('refuses bad values', () => {
    assert.deepEqual(
      errorOf(() => validateGuildSettings({ steps: 500 }, testDefaults)),
      {
        identifier: 'settings.invalidValue',
        message: 'Expected `steps` to be an integer from 1 to 150, got `500`.',
      },
    );
  });

  it('refuses a default above its limit, in either order of changing them', () => {
    assert.deepEqual(
      errorOf(() => validateGuildSettings({ steps: 60 }, testDefaults)),
      {
        identifier: 'settings.conflict',
        message: '`steps` (60) may not exceed `maxSteps` (50). Lower `steps` first or raise `maxSteps`.',
      },
    );
    assert.equal(errorOf(() => validateGuildSettings({ maxSteps: 20 }, testDefaults)).identifier, 'settings.conflict');
    assert.equal(validateGuildSettings({ maxSteps: 20, steps: 20 }, testDefaults).maxSteps, 20);
  });

  it('refuses a default size above maxPixels, also a non-square one', () => {
    assert.deepEqual(
      errorOf(() => validateGuildSettings({ width: 1024, height: 768 }, testDefaults)),
      {
        identifier: 'settings.conflict',
        message:
          '`width` × `height` (1024×768 = 786432 pixels) may not exceed `maxPixels` (589824). Lower `width` first or raise `maxPixels`.',
      },
    );
    assert.equal(validateGuildSettings({ width: 1024, height: 576 }, testDefaults).width, 1024);
    assert.equal(errorOf(() => validateGuildSettings({ maxPixels: 512 * 448 }, testDefaults)).identifier, 'settings.conflict');
  });

  it('lists every broken rule', () => {
    const conflicts = findSettingConflicts({ ...testDefaults, steps: 100, width: 2048, height: 2048 });
    assert.deepEqual(
      conflicts.map((conflict) => conflict.keys[0]),
      ['steps', 'width'],
    );
    assert.deepEqual(findSettingConflicts({ ...testDefaults }), []);
  });
});

describe('effectiveGuildSettings', () => {
  it('uses valid overrides without problems', () => {
    const { settings, problems } = effectiveGuildSettings({ cooldownSeconds: 5 }, testDefaults);
    assert.equal(settings.cooldownSeconds, 5);
    assert.deepEqual(problems, []);
  });

  it('ignores unknown, configuration-only and invalid stored values, reporting each', () => {
    const { settings, problems } = effectiveGuildSettings({ fancyNewSetting: 1, allowDMs: true, steps: 'ten' }, testDefaults);
    assert.equal(settings.steps, testDefaults.steps);
    assert.equal(settings.allowDMs, testDefaults.allowDMs);
    assert.deepEqual(
      problems.map((problem) => problem.key),
      ['fancyNewSetting', 'allowDMs', 'steps'],
    );
  });

  it('lowers steps to maxSteps when a limit changed under it', () => {
    const { settings, problems } = effectiveGuildSettings({ steps: 40 }, settingsWith({ maxSteps: 30 }));
    assert.equal(settings.steps, 30);
    assert.equal(problems.length, 1);
  });

  it('scales a default size down into maxPixels, keeping multiples of 8 and roughly the ratio', () => {
    const { settings } = effectiveGuildSettings({ width: 1024, height: 512 }, settingsWith({ maxPixels: 262144 }));
    assert.ok(settings.width * settings.height <= 262144);
    assert.equal(settings.width % 8, 0);
    assert.equal(settings.height % 8, 0);
    assert.deepEqual([settings.width, settings.height], [720, 360]);
    const extreme = effectiveGuildSettings({ width: 2048, height: 64 }, settingsWith({ maxPixels: 4096 })).settings;
    assert.deepEqual([extreme.width, extreme.height], [64, 64]);
  });
});
