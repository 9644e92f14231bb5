import { validateGuildSettings, type EffectiveSettings, type GuildSettings } from '../../src/settings/index.js';

/** A complete, valid set of settings for tests, independent of config/default.json. */
export const testDefaultsInput: GuildSettings = {
  steps: 25,
  guidance: 7.5,
  width: 512,
  height: 512,
  scheduler: 'euler-a',
  strength: 0.7,
  negativePrefix: '',
  emphasis: 'original',
  maxSteps: 50,
  maxPixels: 589824,
  maxCount: 4,
  maxPromptTokens: 225,
  userQueueLimit: 2,
  cooldownSeconds: 30,
  allowedChannels: [],
  bannedWords: [],
  allowDMs: false,
  previewEverySteps: 'auto',
  varySubtleStrength: 0.35,
  varyStrongStrength: 0.65,
  upscale: 'hires',
  nsfw: 'block',
  nsfwAgeRestricted: 'spoiler',
  requireAgeRestrictedChannel: false,
};

/** {@link testDefaultsInput} validated and frozen. */
export const testDefaults: EffectiveSettings = validateGuildSettings({}, Object.freeze({ ...testDefaultsInput }));

/** `testDefaults` with some values replaced (no validation: lets tests build any combination). */
export function settingsWith(changes: Partial<GuildSettings>): EffectiveSettings {
  return Object.freeze({ ...testDefaults, ...changes });
}
