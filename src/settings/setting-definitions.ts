/**
 * The one declarative table of per-server settings. Validation, parsing, `/settings` (names, descriptions,
 * choices) and the README all read it. Defaults are not here: they live in `config/default.json`
 * (`guildDefaults`).
 */

import { schedulerNames, type SchedulerName } from '../schedulers/index.js';

/** The scheduler (sampler) names users can pick: the scheduler registry's. */
export { schedulerNames, type SchedulerName };

/**
 * How `(word:1.2)`, `[word]` and `BREAK` in prompts are read (AUTOMATIC1111's "Emphasis mode"). Kept here like
 * the scheduler names; the pipeline's own list is cross-checked against it.
 */
export const emphasisNames = ['original', 'no-norm', 'off'] as const;

/** One of {@link emphasisNames}. */
export type EmphasisName = (typeof emphasisNames)[number];

/** Every per-server setting with its value type. A complete object is what a command works with. */
export interface GuildSettings {
  /** Default number of denoising steps (diffusers `numInferenceSteps`). */
  steps: number;
  /** Default classifier-free guidance scale (`guidanceScale`); 1 or less turns guidance off. */
  guidance: number;
  /** Default image width in pixels. */
  width: number;
  /** Default image height in pixels. */
  height: number;
  /** Default scheduler. */
  scheduler: SchedulerName;
  /** Default img2img strength for remixes. */
  strength: number;
  /** Text put in front of every negative prompt (joined with `, `). */
  negativePrefix: string;
  /** How weights in prompts are read: `original` (A1111's default), `no-norm`, or `off` (brackets are text). */
  emphasis: EmphasisName;
  /** Upper limit for `steps`. */
  maxSteps: number;
  /** Upper limit for `width × height`. */
  maxPixels: number;
  /** Upper limit for the number of images per request. */
  maxCount: number;
  /** Most prompt tokens read (A1111's count, 75 per chunk); the rest is cut and the requester told. */
  maxPromptTokens: number;
  /** How many jobs one user may have queued or running at once. */
  userQueueLimit: number;
  /** Seconds between two requests of the same user. */
  cooldownSeconds: number;
  /** Channel ids where commands are allowed; empty means every channel. */
  allowedChannels: readonly string[];
  /** Words or phrases refused in prompts and negative prompts. */
  bannedWords: readonly string[];
  /** Whether the bot answers in direct messages. Only the configuration file can change it. */
  allowDMs: boolean;
  /**
   * A live preview in the status message after every this many denoising steps; `0` turns previews off, `auto`
   * shows one about every quarter of the steps.
   */
  previewEverySteps: number | 'auto';
  /** img2img strength of a result's Vary (Subtle) button. */
  varySubtleStrength: number;
  /** img2img strength of a result's Vary (Strong) button. */
  varyStrongStrength: number;
  /** What a result's Upscale ×2 button does: img2img at twice the size (`hires`), or nothing (`off`: no button). */
  upscale: UpscaleMode;
  /** What happens to a picture the safety checker flags, in a channel that is not age-restricted. */
  nsfw: NsfwAction;
  /** What happens to a flagged picture in an age-restricted channel. */
  nsfwAgeRestricted: NsfwAgeRestrictedAction;
  /** Whether the bot may only be used in age-restricted channels. */
  requireAgeRestrictedChannel: boolean;
}

/** How Upscale ×2 works: `hires` (Lanczos ×2, then img2img at the larger size) or `off`. */
export const upscaleModes = ['hires', 'off'] as const;

/** One of {@link upscaleModes}. */
export type UpscaleMode = (typeof upscaleModes)[number];

/** `nsfw`: a flagged picture is not posted (`block`) or posted as a spoiler (`spoiler`). */
export const nsfwActions = ['block', 'spoiler'] as const;
/** What happens to a flagged picture outside age-restricted channels. */
export type NsfwAction = (typeof nsfwActions)[number];
/** `nsfwAgeRestricted`: as {@link nsfwActions}, or posted as it is (`show`). */
export const nsfwAgeRestrictedActions = ['spoiler', 'show', 'block'] as const;
/** What happens to a flagged picture in age-restricted channels. */
export type NsfwAgeRestrictedAction = (typeof nsfwAgeRestrictedActions)[number];

/** Name of a setting. */
export type SettingKey = keyof GuildSettings;

/** A complete, validated and frozen set of settings, as commands use them. */
export type EffectiveSettings = Readonly<GuildSettings>;

/**
 * What a `/settings` admin sees: defaults for options people leave out, limits on what they may ask, the
 * features around a picture (live previews, Vary and Upscale), or what happens to pictures the safety checker flags.
 */
export type SettingGroup = 'defaults' | 'limits' | 'features' | 'safety';

interface SettingBase {
  /** The setting's name, as typed in `/settings set`. */
  readonly key: SettingKey;
  /** Whether it is a default or a limit. */
  readonly group: SettingGroup;
  /** One line for humans (at most 100 characters: Discord's limit for a choice name). */
  readonly description: string;
  /** True when only the configuration file may set it (no per-server override). */
  readonly configOnly?: boolean;
  /** The limit setting that bounds this default, if any. */
  readonly limitedBy?: SettingKey;
}

/** A whole number in `[min, max]`, optionally a multiple of `multipleOf`, or `auto` where `auto` says what that means. */
export interface IntegerSetting extends SettingBase {
  readonly type: 'integer';
  readonly min: number;
  readonly max: number;
  readonly multipleOf?: number;
  /** When present, the word `auto` is a value too, meaning this. */
  readonly auto?: string;
}

/** A finite number in `[min, max]`. */
export interface NumberSetting extends SettingBase {
  readonly type: 'number';
  readonly min: number;
  readonly max: number;
}

/** `true` or `false`. */
export interface BooleanSetting extends SettingBase {
  readonly type: 'boolean';
}

/** One of a fixed list of names. */
export interface ChoiceSetting extends SettingBase {
  readonly type: 'choice';
  readonly choices: readonly string[];
}

/** Free text of at most `maxLength` characters; the word `none` clears it. */
export interface TextSetting extends SettingBase {
  readonly type: 'text';
  readonly maxLength: number;
}

/** A list of Discord channel ids (snowflakes); the word `all` clears it. */
export interface ChannelListSetting extends SettingBase {
  readonly type: 'channelList';
  readonly maxItems: number;
}

/** A list of words or phrases without commas; the word `none` clears it. */
export interface WordListSetting extends SettingBase {
  readonly type: 'wordList';
  readonly maxItems: number;
  readonly maxItemLength: number;
}

/** The description of one setting in {@link settingDefinitions}. */
export type SettingDefinition =
  | IntegerSetting
  | NumberSetting
  | BooleanSetting
  | ChoiceSetting
  | TextSetting
  | ChannelListSetting
  | WordListSetting;

/** Absolute bounds of image sides, in pixels (SD works on 8× downscaled latents). */
export const imageSide = { min: 64, max: 2048, multipleOf: 8 } as const;

/**
 * Every setting, in the order `/settings show` lists them.
 *
 * Why a pixel budget (`maxPixels`) rather than `maxWidth` + `maxHeight`: time and memory of a run grow
 * with the latent area (width × height / 64), not with either side. One area limit bounds the cost and
 * still lets people ask for wide or tall pictures of the same cost (768×768, 1024×576 and 576×1024 are all
 * 589,824 pixels), which separate side limits would either forbid or allow at twice the cost.
 */
export const settingDefinitions = {
  steps: {
    key: 'steps',
    group: 'defaults',
    type: 'integer',
    min: 1,
    max: 150,
    limitedBy: 'maxSteps',
    description: 'Default number of denoising steps',
  },
  guidance: {
    key: 'guidance',
    group: 'defaults',
    type: 'number',
    min: 0,
    max: 30,
    description: 'Default guidance scale: how closely images follow the prompt (0 or 1 turns guidance off)',
  },
  width: {
    key: 'width',
    group: 'defaults',
    type: 'integer',
    ...imageSide,
    limitedBy: 'maxPixels',
    description: 'Default image width in pixels (a multiple of 8)',
  },
  height: {
    key: 'height',
    group: 'defaults',
    type: 'integer',
    ...imageSide,
    limitedBy: 'maxPixels',
    description: 'Default image height in pixels (a multiple of 8)',
  },
  scheduler: {
    key: 'scheduler',
    group: 'defaults',
    type: 'choice',
    choices: schedulerNames,
    description: 'Default scheduler (sampler)',
  },
  strength: {
    key: 'strength',
    group: 'defaults',
    type: 'number',
    min: 0,
    max: 1,
    description: 'Default remix strength: 0 keeps the source picture, 1 replaces it entirely',
  },
  negativePrefix: {
    key: 'negativePrefix',
    group: 'defaults',
    type: 'text',
    maxLength: 500,
    description: 'Text put in front of every negative prompt',
  },
  emphasis: {
    key: 'emphasis',
    group: 'defaults',
    type: 'choice',
    choices: emphasisNames,
    description: 'How (word:1.2) weights in prompts are read: original (A1111), no-norm, or off (plain text)',
  },
  maxSteps: {
    key: 'maxSteps',
    group: 'limits',
    type: 'integer',
    min: 1,
    max: 150,
    description: 'Most denoising steps one image may use',
  },
  maxPixels: {
    key: 'maxPixels',
    group: 'limits',
    type: 'integer',
    min: imageSide.min * imageSide.min,
    max: imageSide.max * imageSide.max,
    description: 'Largest image area, width × height in pixels (589824 = 768×768)',
  },
  maxCount: {
    key: 'maxCount',
    group: 'limits',
    type: 'integer',
    min: 1,
    max: 4,
    description: 'Most images per request',
  },
  maxPromptTokens: {
    key: 'maxPromptTokens',
    group: 'limits',
    type: 'integer',
    min: 75,
    max: 750,
    description: 'Most prompt tokens read, 75 per chunk (longer prompts are cut, with a notice)',
  },
  userQueueLimit: {
    key: 'userQueueLimit',
    group: 'limits',
    type: 'integer',
    min: 1,
    max: 25,
    description: 'Most jobs one person may have queued or running at once',
  },
  cooldownSeconds: {
    key: 'cooldownSeconds',
    group: 'limits',
    type: 'integer',
    min: 0,
    max: 3600,
    description: 'Seconds a person must wait between two requests',
  },
  allowedChannels: {
    key: 'allowedChannels',
    group: 'limits',
    type: 'channelList',
    maxItems: 100,
    description: 'Channels where the bot may be used (threads follow their channel; empty: everywhere)',
  },
  bannedWords: {
    key: 'bannedWords',
    group: 'limits',
    type: 'wordList',
    maxItems: 200,
    maxItemLength: 100,
    description: 'Words or phrases refused in prompts (whole words, any letter case)',
  },
  allowDMs: {
    key: 'allowDMs',
    group: 'limits',
    type: 'boolean',
    configOnly: true,
    description: 'Whether people may use the bot in direct messages (configuration file only)',
  },
  previewEverySteps: {
    key: 'previewEverySteps',
    group: 'features',
    type: 'integer',
    min: 0,
    max: 150,
    auto: 'about every quarter of the steps',
    description: 'Live preview in the progress message every this many steps (0: off; auto: about every quarter)',
  },
  varySubtleStrength: {
    key: 'varySubtleStrength',
    group: 'features',
    type: 'number',
    min: 0.05,
    max: 1,
    description: 'How much Vary (Subtle) changes a picture (img2img strength)',
  },
  varyStrongStrength: {
    key: 'varyStrongStrength',
    group: 'features',
    type: 'number',
    min: 0.05,
    max: 1,
    description: 'How much Vary (Strong) changes a picture (img2img strength)',
  },
  upscale: {
    key: 'upscale',
    group: 'features',
    type: 'choice',
    choices: upscaleModes,
    description: 'Upscale ×2: hires (Lanczos ×2, then img2img at twice the size) or off (no button)',
  },
  nsfw: {
    key: 'nsfw',
    group: 'safety',
    type: 'choice',
    choices: nsfwActions,
    description: 'Flagged pictures outside age-restricted channels: block, or post as spoiler',
  },
  nsfwAgeRestricted: {
    key: 'nsfwAgeRestricted',
    group: 'safety',
    type: 'choice',
    choices: nsfwAgeRestrictedActions,
    description: 'Flagged pictures in age-restricted channels: spoiler, show, or block',
  },
  requireAgeRestrictedChannel: {
    key: 'requireAgeRestrictedChannel',
    group: 'safety',
    type: 'boolean',
    description: 'Only in age-restricted channels',
  },
} as const satisfies { readonly [K in SettingKey]: SettingDefinition & { readonly key: K } };

/** The table entry of `key`, typed as the general {@link SettingDefinition}. */
export function settingDefinition(key: SettingKey): SettingDefinition {
  return settingDefinitions[key];
}

/** Every setting name, in table order. */
export const settingKeys: readonly SettingKey[] = Object.freeze(Object.keys(settingDefinitions) as SettingKey[]);

/** The settings a server admin may change with `/settings set` (all but the configuration-only ones). */
export const guildSettingKeys: readonly SettingKey[] = Object.freeze(
  settingKeys.filter((key) => settingDefinition(key).configOnly !== true),
);

/** True when `text` is exactly the name of a setting. */
export function isSettingKey(text: string): text is SettingKey {
  return Object.prototype.hasOwnProperty.call(settingDefinitions, text);
}
