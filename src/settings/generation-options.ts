import { UserError } from '../errors.js';
import { parsePromptAttention } from '../pipeline/prompt/attention.js';
import { MAX_SEED, normalizeSeed, parseSeed, randomSeed } from '../random/index.js';
import { bannedWordMatcher } from './banned-words.js';
import { didYouMean } from './did-you-mean.js';
import {
  imageSide,
  schedulerNames,
  settingDefinitions,
  type EffectiveSettings,
  type EmphasisName,
  type SchedulerName,
} from './setting-definitions.js';
import { shown } from './setting-values.js';

/**
 * Longest prompt or negative prompt a user may send, in characters: room for the longest prompts the token limit
 * allows (`maxPromptTokens` at most 750; weighted prompts run 4–6 characters a token) within a Discord message.
 */
export const maxPromptLength = 2000;

/**
 * What a person asked for, before defaults and limits. Every option may be absent (`undefined` or `null`,
 * which is what discord.js returns for an option left out).
 */
export interface UserGenerationOptions {
  /** The prompt; required, 1 to {@link maxPromptLength} characters after trimming. */
  readonly prompt: string;
  /** The user's own negative prompt; the server's `negativePrefix` is put in front of it. */
  readonly negativePrompt?: string | null;
  /** Denoising steps (`numInferenceSteps`). */
  readonly steps?: number | null;
  /** Classifier-free guidance scale (`guidanceScale`). */
  readonly guidance?: number | null;
  /** Image width in pixels. */
  readonly width?: number | null;
  /** Image height in pixels. */
  readonly height?: number | null;
  /** Scheduler name, any letter case. */
  readonly scheduler?: string | null;
  /** Number of images. */
  readonly count?: number | null;
  /** Seed as a number, bigint or decimal text; absent → random. */
  readonly seed?: number | bigint | string | null;
  /** img2img strength (remixes only). */
  readonly strength?: number | null;
  /** `remix` checks that `strength` leaves at least one denoising step; default `imagine`. */
  readonly kind?: 'imagine' | 'remix';
}

/** Fully resolved options of one generation job, within the server's limits. */
export interface GenerationOptions {
  /** Trimmed prompt. */
  readonly prompt: string;
  /** `negativePrefix` and the user's negative prompt joined with `, ` (either may be empty). */
  readonly negativePrompt: string;
  /** Denoising steps. */
  readonly steps: number;
  /** Guidance scale; 1 or less means no classifier-free guidance. */
  readonly guidance: number;
  /** Width in pixels, a multiple of 8. */
  readonly width: number;
  /** Height in pixels, a multiple of 8. */
  readonly height: number;
  /** Scheduler name. */
  readonly scheduler: SchedulerName;
  /** Number of images. */
  readonly count: number;
  /** Seed as canonical decimal text (no sign, no leading zeros), from 0 to 2^64 − 1. */
  readonly seed: string;
  /** img2img strength from 0 to 1 (the default applies also to `imagine`, where it is unused). */
  readonly strength: number;
  /** How weights in the prompts are read (the server's `emphasis`). */
  readonly emphasis: EmphasisName;
  /** Most prompt tokens read (the server's `maxPromptTokens`); the rest is cut and the requester told. */
  readonly maxPromptTokens: number;
}

/** Extra inputs of {@link resolveGenerationOptions}. */
export interface ResolveContext {
  /** Whose limits these are, for messages: `server` (default) or `bot` (direct messages, config defaults). */
  readonly limitOwner?: 'server' | 'bot';
  /** Source of random seeds; default: uniform over 0 … 2^32 − 1 (short enough to read back and retype). */
  readonly randomSeed?: () => bigint;
}

function given<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

function fail(key: string, expected: string, got: unknown, note = ''): never {
  throw new UserError(`options.${key}`, `Expected \`${key}\` to be ${expected}${note}, got \`${shown(String(got))}\`.`);
}

function integerIn(key: string, value: number, min: number, max: number, absoluteMax: number, limitNote: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(key, `an integer from ${min} to ${max}`, value, max < absoluteMax ? limitNote : '');
  }
  return value;
}

function numberIn(key: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) fail(key, `a number from ${min} to ${max}`, value);
  return value;
}

function side(key: 'width' | 'height', value: number): number {
  if (!Number.isInteger(value) || value < imageSide.min || value > imageSide.max || value % imageSide.multipleOf !== 0) {
    fail(key, `a multiple of ${imageSide.multipleOf} from ${imageSide.min} to ${imageSide.max}`, value);
  }
  return value;
}

/** The seed as canonical decimal text; the rules are `torch.Generator.manual_seed`'s (src/random), the wording ours. */
function seedFrom(value: number | bigint | string): string {
  try {
    return (typeof value === 'string' ? parseSeed(value) : normalizeSeed(value)).toString();
  } catch {
    return fail('seed', `an integer from 0 to ${MAX_SEED}`, value);
  }
}

function text(key: 'prompt' | 'negativePrompt', value: string, required: boolean): string {
  const trimmed = value.trim();
  const length = Array.from(trimmed).length;
  if ((required && length === 0) || length > maxPromptLength) {
    const got = length === 0 ? 'nothing' : `${length} characters`;
    throw new UserError(
      `options.${key}`,
      `Expected \`${key}\` to be text of ${required ? 1 : 0} to ${maxPromptLength} characters, got ${got}.`,
    );
  }
  return trimmed;
}

/**
 * Applies a server's defaults and limits to what a person asked for, the one check every command runs
 * before queueing a job. Throws a {@link UserError} with identifier `options.<name>` for a value out of
 * range, worded like "Expected `steps` to be an integer from 1 to 50 (this server's limit), got `500`",
 * and `options.bannedWord` when the prompt or the user's negative prompt contains one of the server's
 * banned words (the server's own `negativePrefix` is not checked).
 */
export function resolveGenerationOptions(
  userOptions: UserGenerationOptions,
  settings: EffectiveSettings,
  context: ResolveContext = {},
): GenerationOptions {
  const limitNote = context.limitOwner === 'bot' ? " (this bot's limit)" : " (this server's limit)";

  const prompt = text('prompt', userOptions.prompt, true);
  const userNegative = given(userOptions.negativePrompt) ? text('negativePrompt', userOptions.negativePrompt, false) : '';
  // A weight that is not a number (`(fox:1.2.3)`) is refused now rather than failing the job later.
  if (settings.emphasis !== 'off') for (const value of [prompt, userNegative]) parsePromptAttention(value);

  const steps = integerIn('steps', userOptions.steps ?? settings.steps, 1, settings.maxSteps, settingDefinitions.maxSteps.max, limitNote);
  const guidance = numberIn(
    'guidance',
    userOptions.guidance ?? settings.guidance,
    settingDefinitions.guidance.min,
    settingDefinitions.guidance.max,
  );

  const width = side('width', userOptions.width ?? settings.width);
  const height = side('height', userOptions.height ?? settings.height);
  if (width * height > settings.maxPixels) {
    const square = Math.floor(Math.sqrt(settings.maxPixels) / imageSide.multipleOf) * imageSide.multipleOf;
    throw new UserError(
      'options.size',
      `Expected \`width\` × \`height\` to be at most ${settings.maxPixels} pixels${limitNote}, e.g. ${square}×${square}, ` +
        `got \`${width}×${height}\` = ${width * height} pixels.`,
    );
  }

  const schedulerText = (userOptions.scheduler ?? settings.scheduler).trim().toLowerCase();
  const scheduler = schedulerNames.find((name) => name === schedulerText);
  if (scheduler === undefined) {
    const suggestion = didYouMean(schedulerText, schedulerNames);
    fail(
      'scheduler',
      `one of ${schedulerNames.map((name) => `\`${name}\``).join(', ')}`,
      userOptions.scheduler,
      suggestion !== undefined ? ` (did you mean \`${suggestion}\`?)` : '',
    );
  }

  const count = integerIn('count', userOptions.count ?? 1, 1, settings.maxCount, settingDefinitions.maxCount.max, limitNote);
  const seed = seedFrom(userOptions.seed ?? (context.randomSeed ?? (() => BigInt(randomSeed())))());

  const strength = numberIn(
    'strength',
    userOptions.strength ?? settings.strength,
    settingDefinitions.strength.min,
    settingDefinitions.strength.max,
  );
  // diffusers img2img runs int(numInferenceSteps × strength) steps; zero would leave nothing to do.
  if (userOptions.kind === 'remix' && Math.floor(steps * strength) < 1) {
    throw new UserError(
      'options.strength',
      `With \`steps\` ${steps}, a \`strength\` of ${strength} leaves no denoising step: ` +
        `expected \`strength\` to be at least ${Math.ceil((1 / steps) * 1000) / 1000} or more steps.`,
    );
  }

  const isBanned = bannedWordMatcher(settings.bannedWords);
  for (const [key, value] of [
    ['prompt', prompt],
    ['negativePrompt', userNegative],
  ] as const) {
    const word = isBanned(value);
    if (word !== undefined) {
      throw new UserError(
        'options.bannedWord',
        `Your \`${key}\` contains “${shown(word)}”, which this ${context.limitOwner === 'bot' ? 'bot' : 'server'} does not allow.`,
      );
    }
  }

  const negativePrompt = [settings.negativePrefix.trim(), userNegative].filter((part) => part !== '').join(', ');
  const { emphasis, maxPromptTokens } = settings;
  return Object.freeze({
    prompt,
    negativePrompt,
    steps,
    guidance,
    width,
    height,
    scheduler,
    count,
    seed,
    strength,
    emphasis,
    maxPromptTokens,
  });
}
