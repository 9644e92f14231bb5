import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { maxPromptLength, resolveGenerationOptions, type UserGenerationOptions } from '../../src/settings/index.js';
import { settingsWith, testDefaults } from './settings-fixture.js';

const fixedSeed = { randomSeed: () => 1234n };

function errorOf(run: () => unknown): { identifier: string; message: string } {
  try {
    run();
  } catch (error) {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    return { identifier: error.identifier, message: error.message };
  }
  assert.fail('expected an error');
}

describe('resolveGenerationOptions', () => {
  it('fills everything left out from the settings', () => {
    const options = resolveGenerationOptions({ prompt: '  a running dog ' }, testDefaults, fixedSeed);
    assert.deepEqual(options, {
      prompt: 'a running dog',
      negativePrompt: '',
      steps: 25,
      guidance: 7.5,
      width: 512,
      height: 512,
      scheduler: 'euler-a',
      count: 1,
      seed: '1234',
      strength: 0.7,
      emphasis: 'original',
      maxPromptTokens: 225,
    });
    assert.ok(Object.isFrozen(options));
  });

  it('treats null (discord.js for an option left out) like undefined', () => {
    const options = resolveGenerationOptions(
      {
        prompt: 'x',
        negativePrompt: null,
        steps: null,
        guidance: null,
        width: null,
        height: null,
        scheduler: null,
        count: null,
        seed: null,
        strength: null,
      },
      testDefaults,
      fixedSeed,
    );
    assert.equal(options.steps, 25);
    assert.equal(options.seed, '1234');
  });

  it('takes what the user gave, within the limits', () => {
    const options = resolveGenerationOptions(
      {
        prompt: 'castle',
        negativePrompt: 'lowres',
        steps: 50,
        guidance: 1,
        width: 768,
        height: 576,
        scheduler: 'DPMPP-2M-Karras',
        count: 4,
        seed: '18446744073709551615',
        strength: 0.3,
      },
      testDefaults,
    );
    assert.deepEqual(
      [options.steps, options.guidance, options.width, options.height, options.scheduler, options.count, options.seed, options.strength],
      [50, 1, 768, 576, 'dpmpp-2m-karras', 4, '18446744073709551615', 0.3],
    );
  });

  it("reads prompts with the server's emphasis mode and token limit, and refuses a weight that is no number now", () => {
    const settings = settingsWith({ emphasis: 'no-norm', maxPromptTokens: 150 });
    const options = resolveGenerationOptions({ prompt: '(masterpiece:1.2), a [red] fox' }, settings, fixedSeed);
    assert.deepEqual([options.emphasis, options.maxPromptTokens, options.prompt], ['no-norm', 150, '(masterpiece:1.2), a [red] fox']);
    for (const options of [{ prompt: 'a (fox:1.2.3)' }, { prompt: 'a fox', negativePrompt: '(blur:.)' }]) {
      assert.throws(
        () => resolveGenerationOptions(options, settings, fixedSeed),
        (e: unknown) => isUserError(e) && e.identifier === 'prompt.badWeight',
      );
    }
    // With emphasis off brackets are plain text: nothing to refuse.
    assert.equal(
      resolveGenerationOptions({ prompt: 'a (fox:1.2.3)' }, settingsWith({ emphasis: 'off' }), fixedSeed).prompt,
      'a (fox:1.2.3)',
    );
  });

  it('puts the server prefix in front of the negative prompt', () => {
    const settings = settingsWith({ negativePrefix: 'blurry, lowres' });
    assert.equal(
      resolveGenerationOptions({ prompt: 'x', negativePrompt: ' text ' }, settings, fixedSeed).negativePrompt,
      'blurry, lowres, text',
    );
    assert.equal(resolveGenerationOptions({ prompt: 'x' }, settings, fixedSeed).negativePrompt, 'blurry, lowres');
    assert.equal(resolveGenerationOptions({ prompt: 'x', negativePrompt: 'text' }, testDefaults, fixedSeed).negativePrompt, 'text');
  });

  const refusals: ReadonlyArray<readonly [string, Partial<UserGenerationOptions>, string, string]> = [
    [
      'steps above the server limit',
      { steps: 500 },
      'options.steps',
      "Expected `steps` to be an integer from 1 to 50 (this server's limit), got `500`.",
    ],
    ['steps of 0', { steps: 0 }, 'options.steps', "Expected `steps` to be an integer from 1 to 50 (this server's limit), got `0`."],
    [
      'fractional steps',
      { steps: 2.5 },
      'options.steps',
      "Expected `steps` to be an integer from 1 to 50 (this server's limit), got `2.5`.",
    ],
    ['guidance above 30', { guidance: 31 }, 'options.guidance', 'Expected `guidance` to be a number from 0 to 30, got `31`.'],
    ['width not a multiple of 8', { width: 500 }, 'options.width', 'Expected `width` to be a multiple of 8 from 64 to 2048, got `500`.'],
    ['height below 64', { height: 32 }, 'options.height', 'Expected `height` to be a multiple of 8 from 64 to 2048, got `32`.'],
    [
      'an area above maxPixels',
      { width: 1024, height: 1024 },
      'options.size',
      "Expected `width` × `height` to be at most 589824 pixels (this server's limit), e.g. 768×768, got `1024×1024` = 1048576 pixels.",
    ],
    [
      'an unknown scheduler',
      { scheduler: 'eular' },
      'options.scheduler',
      'Expected `scheduler` to be one of `euler`, `euler-a`, `ddim`, `dpmpp-2m`, `dpmpp-2m-karras`, `lcm`, `pndm`, `lms`, `unipc`, ' +
        '`ddpm` (did you mean `euler`?), got `eular`.',
    ],
    ['too many images', { count: 5 }, 'options.count', 'Expected `count` to be an integer from 1 to 4, got `5`.'],
    ['a negative seed', { seed: -1 }, 'options.seed', 'Expected `seed` to be an integer from 0 to 18446744073709551615, got `-1`.'],
    [
      'a seed above 2^64 - 1',
      { seed: '18446744073709551616' },
      'options.seed',
      'Expected `seed` to be an integer from 0 to 18446744073709551615, got `18446744073709551616`.',
    ],
    [
      'an unsafe number seed',
      { seed: 2 ** 60 },
      'options.seed',
      `Expected \`seed\` to be an integer from 0 to 18446744073709551615, got \`${2 ** 60}\`.`,
    ],
    [
      'a seed that is not a number',
      { seed: '12abc' },
      'options.seed',
      'Expected `seed` to be an integer from 0 to 18446744073709551615, got `12abc`.',
    ],
    ['strength above 1', { strength: 1.5 }, 'options.strength', 'Expected `strength` to be a number from 0 to 1, got `1.5`.'],
    [
      'an empty prompt',
      { prompt: '   ' },
      'options.prompt',
      `Expected \`prompt\` to be text of 1 to ${maxPromptLength} characters, got nothing.`,
    ],
    [
      'a long prompt',
      { prompt: 'x'.repeat(maxPromptLength + 1) },
      'options.prompt',
      `Expected \`prompt\` to be text of 1 to ${maxPromptLength} characters, got ${maxPromptLength + 1} characters.`,
    ],
    [
      'a long negative prompt',
      { negativePrompt: 'x'.repeat(maxPromptLength + 1) },
      'options.negativePrompt',
      `Expected \`negativePrompt\` to be text of 0 to ${maxPromptLength} characters, got ${maxPromptLength + 1} characters.`,
    ],
  ];
  for (const [what, given, identifier, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.deepEqual(
        errorOf(() => resolveGenerationOptions({ prompt: 'a dog', ...given }, testDefaults, fixedSeed)),
        { identifier, message },
      );
    });
  }

  it('names the bot as the owner of the limits in direct messages', () => {
    assert.equal(
      errorOf(() => resolveGenerationOptions({ prompt: 'x', steps: 51 }, testDefaults, { limitOwner: 'bot' })).message,
      "Expected `steps` to be an integer from 1 to 50 (this bot's limit), got `51`.",
    );
  });

  it('does not call a limit the server’s when it is the absolute bound', () => {
    const settings = settingsWith({ maxSteps: 150 });
    assert.equal(
      errorOf(() => resolveGenerationOptions({ prompt: 'x', steps: 151 }, settings)).message,
      'Expected `steps` to be an integer from 1 to 150, got `151`.',
    );
  });

  it("applies the server's lower limits", () => {
    const settings = settingsWith({ maxCount: 2, maxSteps: 10, steps: 10 });
    assert.equal(resolveGenerationOptions({ prompt: 'x' }, settings, fixedSeed).steps, 10);
    assert.equal(
      errorOf(() => resolveGenerationOptions({ prompt: 'x', count: 3 }, settings)).message,
      "Expected `count` to be an integer from 1 to 2 (this server's limit), got `3`.",
    );
  });

  it('accepts seeds as numbers, bigints and decimal text, returning canonical text', () => {
    assert.equal(resolveGenerationOptions({ prompt: 'x', seed: 42 }, testDefaults).seed, '42');
    assert.equal(resolveGenerationOptions({ prompt: 'x', seed: 42n }, testDefaults).seed, '42');
    assert.equal(resolveGenerationOptions({ prompt: 'x', seed: ' 0042 ' }, testDefaults).seed, '42');
    assert.equal(resolveGenerationOptions({ prompt: 'x', seed: 0 }, testDefaults).seed, '0');
  });

  it('draws random seeds from 0 to 2^32 - 1 by default', () => {
    const seeds = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const seed = BigInt(resolveGenerationOptions({ prompt: 'x' }, testDefaults).seed);
      assert.ok(seed >= 0n && seed < 2n ** 32n);
      seeds.add(seed.toString());
    }
    assert.ok(seeds.size > 1);
  });

  it('refuses a remix whose strength leaves no denoising step (diffusers runs int(steps × strength))', () => {
    assert.deepEqual(
      errorOf(() => resolveGenerationOptions({ prompt: 'x', kind: 'remix', steps: 10, strength: 0.05 }, testDefaults)),
      {
        identifier: 'options.strength',
        message: 'With `steps` 10, a `strength` of 0.05 leaves no denoising step: expected `strength` to be at least 0.1 or more steps.',
      },
    );
    assert.equal(resolveGenerationOptions({ prompt: 'x', kind: 'remix', steps: 10, strength: 0.1 }, testDefaults).strength, 0.1);
    assert.equal(resolveGenerationOptions({ prompt: 'x', kind: 'imagine', steps: 10, strength: 0 }, testDefaults).strength, 0);
  });

  it('refuses banned words in the prompt and in the negative prompt, but not in the server prefix', () => {
    const settings = settingsWith({ bannedWords: ['gore', 'blood bath'], negativePrefix: 'no gore' });
    assert.deepEqual(
      errorOf(() => resolveGenerationOptions({ prompt: 'A GORE scene' }, settings)),
      {
        identifier: 'options.bannedWord',
        message: 'Your `prompt` contains “gore”, which this server does not allow.',
      },
    );
    assert.deepEqual(
      errorOf(() => resolveGenerationOptions({ prompt: 'calm lake', negativePrompt: 'Blood  Bath' }, settings)),
      {
        identifier: 'options.bannedWord',
        message: 'Your `negativePrompt` contains “blood bath”, which this server does not allow.',
      },
    );
    assert.equal(resolveGenerationOptions({ prompt: 'gorgeous lake' }, settings, fixedSeed).negativePrompt, 'no gore');
  });
});
