import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import {
  checkSettingValue,
  describeSetting,
  formatSettingValue,
  guildSettingKeys,
  parseSettingValue,
  schedulerNames,
  settingDefinitions,
  settingKeyFromText,
  settingKeys,
  type GuildSettings,
  type SettingKey,
} from '../../src/settings/index.js';

interface KeyCases {
  /** Text typed in `/settings set` and the value it must give. */
  readonly valid: ReadonlyArray<readonly [string, unknown]>;
  /** Text that must be refused, and the exact error message. */
  readonly invalid: ReadonlyArray<readonly [string, string]>;
}

const cases: { readonly [K in SettingKey]: KeyCases } = {
  steps: {
    valid: [
      ['30', 30],
      [' 1 ', 1],
      ['150', 150],
      ['+7', 7],
    ],
    invalid: [
      ['0', 'Expected `steps` to be an integer from 1 to 150, got `0`.'],
      ['151', 'Expected `steps` to be an integer from 1 to 150, got `151`.'],
      ['7.5', 'Expected `steps` to be an integer from 1 to 150, got `7.5`.'],
      ['1e2', 'Expected `steps` to be an integer from 1 to 150, got `1e2`.'],
      ['many', 'Expected `steps` to be an integer from 1 to 150, got `many`.'],
    ],
  },
  guidance: {
    valid: [
      ['7.5', 7.5],
      ['0', 0],
      ['1', 1],
      ['30', 30],
      ['.5', 0.5],
      ['12.', 12],
    ],
    invalid: [
      ['31', 'Expected `guidance` to be a number from 0 to 30, got `31`.'],
      ['-1', 'Expected `guidance` to be a number from 0 to 30, got `-1`.'],
      ['7,5', 'Expected `guidance` to be a number from 0 to 30, got `7,5`.'],
      ['NaN', 'Expected `guidance` to be a number from 0 to 30, got `NaN`.'],
      ['Infinity', 'Expected `guidance` to be a number from 0 to 30, got `Infinity`.'],
    ],
  },
  width: {
    valid: [
      ['512', 512],
      ['64', 64],
      ['2048', 2048],
      ['776', 776],
    ],
    invalid: [
      ['500', 'Expected `width` to be a multiple of 8 from 64 to 2048, got `500`.'],
      ['56', 'Expected `width` to be a multiple of 8 from 64 to 2048, got `56`.'],
      ['2056', 'Expected `width` to be a multiple of 8 from 64 to 2048, got `2056`.'],
    ],
  },
  height: {
    valid: [
      ['768', 768],
      ['64', 64],
    ],
    invalid: [['1023', 'Expected `height` to be a multiple of 8 from 64 to 2048, got `1023`.']],
  },
  scheduler: {
    valid: [
      ['euler-a', 'euler-a'],
      ['Euler-A', 'euler-a'],
      [' DPMPP-2M-KARRAS ', 'dpmpp-2m-karras'],
      ['lcm', 'lcm'],
    ],
    invalid: [
      [
        'eulr-a',
        'Expected `scheduler` to be one of `euler`, `euler-a`, `ddim`, `dpmpp-2m`, `dpmpp-2m-karras`, `lcm`, `pndm`, `lms`, `unipc`, ' +
          '`ddpm`, got `eulr-a` (did you mean `euler-a`?).',
      ],
      [
        'k_euler',
        'Expected `scheduler` to be one of `euler`, `euler-a`, `ddim`, `dpmpp-2m`, `dpmpp-2m-karras`, `lcm`, `pndm`, `lms`, `unipc`, ' +
          '`ddpm`, got `k_euler` (did you mean `euler`?).',
      ],
      [
        'heun',
        'Expected `scheduler` to be one of `euler`, `euler-a`, `ddim`, `dpmpp-2m`, `dpmpp-2m-karras`, `lcm`, `pndm`, `lms`, `unipc`, ' +
          '`ddpm`, got `heun`.',
      ],
    ],
  },
  strength: {
    valid: [
      ['0.7', 0.7],
      ['0', 0],
      ['1', 1],
    ],
    invalid: [['1.5', 'Expected `strength` to be a number from 0 to 1, got `1.5`.']],
  },
  negativePrefix: {
    valid: [
      ['  blurry, lowres ', 'blurry, lowres'],
      ['none', ''],
      ['NONE', ''],
      ['', ''],
    ],
    invalid: [['x'.repeat(501), `Expected \`negativePrefix\` to be text of at most 500 characters, got \`${'x'.repeat(99)}…\`.`]],
  },
  maxSteps: {
    valid: [
      ['50', 50],
      ['150', 150],
    ],
    invalid: [['0', 'Expected `maxSteps` to be an integer from 1 to 150, got `0`.']],
  },
  maxPixels: {
    valid: [
      ['589824', 589824],
      ['4096', 4096],
      ['4194304', 4194304],
    ],
    invalid: [['4095', 'Expected `maxPixels` to be an integer from 4096 to 4194304, got `4095`.']],
  },
  maxCount: {
    valid: [
      ['4', 4],
      ['1', 1],
    ],
    invalid: [['5', 'Expected `maxCount` to be an integer from 1 to 4, got `5`.']],
  },
  emphasis: {
    valid: [
      ['original', 'original'],
      ['No-Norm', 'no-norm'],
      [' off ', 'off'],
    ],
    invalid: [['nonorm', 'Expected `emphasis` to be one of `original`, `no-norm`, `off`, got `nonorm` (did you mean `no-norm`?).']],
  },
  maxPromptTokens: {
    valid: [
      ['225', 225],
      ['75', 75],
      ['750', 750],
    ],
    invalid: [
      ['74', 'Expected `maxPromptTokens` to be an integer from 75 to 750, got `74`.'],
      ['751', 'Expected `maxPromptTokens` to be an integer from 75 to 750, got `751`.'],
    ],
  },
  userQueueLimit: {
    valid: [
      ['25', 25],
      ['1', 1],
    ],
    invalid: [['26', 'Expected `userQueueLimit` to be an integer from 1 to 25, got `26`.']],
  },
  cooldownSeconds: {
    valid: [
      ['0', 0],
      ['3600', 3600],
    ],
    invalid: [['-5', 'Expected `cooldownSeconds` to be an integer from 0 to 3600, got `-5`.']],
  },
  allowedChannels: {
    valid: [
      ['<#123456789012345678> <#223456789012345678>', ['123456789012345678', '223456789012345678']],
      [
        '123456789012345678,223456789012345678 ,  <#323456789012345678>',
        ['123456789012345678', '223456789012345678', '323456789012345678'],
      ],
      ['123456789012345678 123456789012345678', ['123456789012345678']],
      ['all', []],
      ['', []],
    ],
    invalid: [
      [
        '#general',
        'Expected `allowedChannels` to be channel mentions or ids separated by spaces or commas (or `all` for every channel), got ' +
          '`#general`.',
      ],
      [
        '<@123456789012345678>',
        'Expected `allowedChannels` to be channel mentions or ids separated by spaces or commas (or `all` for every channel), got ' +
          '`<@123456789012345678>`.',
      ],
      ['99999999999999999999', 'Expected `allowedChannels` to be a list of at most 100 channel ids, got `99999999999999999999`.'],
    ],
  },
  bannedWords: {
    valid: [
      ['gore, Blood  Bath ,\nnsfw', ['gore', 'Blood Bath', 'nsfw']],
      ['Gore, gore, GORE', ['Gore']],
      ['none', []],
    ],
    invalid: [
      [
        'a'.repeat(101),
        `Expected \`bannedWords\` to be a list of at most 200 words or phrases of 1 to 100 characters without commas, got ` +
          `\`${'a'.repeat(99)}…\`.`,
      ],
    ],
  },
  allowDMs: {
    valid: [
      ['true', true],
      ['ON', true],
      ['yes', true],
      ['1', true],
      ['false', false],
      ['off', false],
      ['No', false],
      ['0', false],
    ],
    invalid: [['maybe', 'Expected `allowDMs` to be true or false, got `maybe`.']],
  },
  previewEverySteps: {
    valid: [
      ['auto', 'auto'],
      [' AUTO ', 'auto'],
      ['0', 0],
      ['5', 5],
      ['150', 150],
    ],
    invalid: [
      ['-1', 'Expected `previewEverySteps` to be `auto` (about every quarter of the steps) or an integer from 0 to 150, got `-1`.'],
      ['2.5', 'Expected `previewEverySteps` to be `auto` (about every quarter of the steps) or an integer from 0 to 150, got `2.5`.'],
      ['often', 'Expected `previewEverySteps` to be `auto` (about every quarter of the steps) or an integer from 0 to 150, got `often`.'],
    ],
  },
  varySubtleStrength: {
    valid: [
      ['0.35', 0.35],
      ['1', 1],
      ['.05', 0.05],
    ],
    invalid: [
      ['0', 'Expected `varySubtleStrength` to be a number from 0.05 to 1, got `0`.'],
      ['1.5', 'Expected `varySubtleStrength` to be a number from 0.05 to 1, got `1.5`.'],
    ],
  },
  varyStrongStrength: {
    valid: [['0.65', 0.65]],
    invalid: [['lots', 'Expected `varyStrongStrength` to be a number from 0.05 to 1, got `lots`.']],
  },
  upscale: {
    valid: [
      ['hires', 'hires'],
      ['Hires', 'hires'],
      ['OFF', 'off'],
    ],
    invalid: [['esrgan', 'Expected `upscale` to be one of `hires`, `off`, got `esrgan`.']],
  },
  nsfw: {
    valid: [
      ['block', 'block'],
      [' Spoiler ', 'spoiler'],
    ],
    invalid: [['show', 'Expected `nsfw` to be one of `block`, `spoiler`, got `show`.']],
  },
  nsfwAgeRestricted: {
    valid: [
      ['spoiler', 'spoiler'],
      ['SHOW', 'show'],
      ['block', 'block'],
    ],
    invalid: [['allow', 'Expected `nsfwAgeRestricted` to be one of `spoiler`, `show`, `block`, got `allow`.']],
  },
  requireAgeRestrictedChannel: {
    valid: [
      ['on', true],
      ['false', false],
    ],
    invalid: [['nsfw', 'Expected `requireAgeRestrictedChannel` to be true or false, got `nsfw`.']],
  },
};

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected an error');
}

describe('settings table', () => {
  it('has test cases for every key', () => {
    assert.deepEqual(Object.keys(cases).sort(), [...settingKeys].sort());
  });

  it('fits Discord: at most 25 keys (one choice option), descriptions of 1 to 100 characters', () => {
    assert.ok(settingKeys.length <= 25);
    for (const key of settingKeys) {
      const { description } = settingDefinitions[key];
      assert.ok(description.length > 0 && description.length <= 100, `${key}: ${description.length} characters`);
    }
  });

  it('keeps the scheduler list the lead cross-checks', () => {
    assert.deepEqual(
      [...schedulerNames],
      ['euler', 'euler-a', 'ddim', 'dpmpp-2m', 'dpmpp-2m-karras', 'lcm', 'pndm', 'lms', 'unipc', 'ddpm'],
    );
    assert.deepEqual(settingDefinitions.scheduler.choices, schedulerNames);
    assert.match(describeSetting('scheduler').expected, /^one of `euler`, `euler-a`, /u);
  });

  it('lets admins change everything but allowDMs', () => {
    assert.deepEqual(
      [...guildSettingKeys],
      settingKeys.filter((key) => key !== 'allowDMs'),
    );
  });

  it('describes expectations in words', () => {
    assert.equal(describeSetting('steps').expected, 'an integer from 1 to 150');
    assert.equal(describeSetting('width').expected, 'a multiple of 8 from 64 to 2048');
    assert.equal(describeSetting('guidance').expected, 'a number from 0 to 30');
    assert.equal(describeSetting('allowDMs').expected, 'true or false');
  });
});

describe('parseSettingValue', () => {
  for (const key of settingKeys) {
    const { valid, invalid } = cases[key];
    it(`parses ${key}`, () => {
      for (const [text, expected] of valid) assert.deepEqual(parseSettingValue(key, text), expected, `${key} ${JSON.stringify(text)}`);
    });
    it(`refuses bad ${key} values with a message saying what was expected`, () => {
      for (const [text, message] of invalid)
        assert.equal(
          messageOf(() => parseSettingValue(key, text)),
          message,
        );
    });
    it(`formats ${key} values so that they parse back to the same value`, () => {
      for (const [text] of valid) {
        const value = parseSettingValue(key, text);
        const formatted = formatSettingValue(key, value as GuildSettings[typeof key]);
        assert.deepEqual(parseSettingValue(key, formatted), value, `${key}: ${formatted}`);
      }
    });
  }

  it('formats for display', () => {
    assert.equal(formatSettingValue('allowedChannels', []), 'all');
    assert.equal(formatSettingValue('allowedChannels', ['1', '2']), '<#1>, <#2>');
    assert.equal(formatSettingValue('bannedWords', []), 'none');
    assert.equal(formatSettingValue('negativePrefix', ''), 'none');
    assert.equal(formatSettingValue('allowDMs', true), 'on');
    assert.equal(formatSettingValue('guidance', 7.5), '7.5');
  });

  it('finds keys in any letter case and suggests near misses', () => {
    assert.equal(settingKeyFromText('MaxSteps'), 'maxSteps');
    assert.equal(parseSettingValue('STEPS', '20'), 20);
    assert.equal(
      messageOf(() => settingKeyFromText('stpes')),
      'There is no setting `stpes`. Did you mean `steps`?',
    );
    assert.equal(
      messageOf(() => settingKeyFromText('maxWidth')),
      'There is no setting `maxWidth`. Did you mean `maxPixels`?',
    );
    assert.match(
      messageOf(() => settingKeyFromText('colour')),
      /^There is no setting `colour`\. Settings are: `steps`, /u,
    );
  });
});

describe('checkSettingValue', () => {
  it('accepts JSON values and canonicalises lists', () => {
    assert.deepEqual(checkSettingValue('bannedWords', [' a  b ', 'A B', 'c']), { ok: true, value: ['a b', 'c'] });
    assert.deepEqual(checkSettingValue('allowedChannels', ['1', '1', '2']), { ok: true, value: ['1', '2'] });
  });

  it('refuses values of the wrong type', () => {
    assert.equal(checkSettingValue('steps', '30').ok, false);
    assert.equal(checkSettingValue('allowDMs', 'true').ok, false);
    assert.equal(checkSettingValue('allowedChannels', [123]).ok, false);
    assert.equal(checkSettingValue('allowedChannels', ['0123']).ok, false);
    assert.equal(checkSettingValue('bannedWords', ['a,b']).ok, false);
    assert.equal(checkSettingValue('bannedWords', ['']).ok, false);
    assert.equal(
      checkSettingValue(
        'bannedWords',
        Array.from({ length: 201 }, (_, i) => `w${i}`),
      ).ok,
      false,
    );
    assert.equal(checkSettingValue('scheduler', 'Euler').ok, false);
    assert.equal(checkSettingValue('guidance', Number.NaN).ok, false);
  });
});
