import { UserError } from '../errors.js';
import { oneLine, shorten } from '../text.js';
import { didYouMean } from './did-you-mean.js';
import {
  isSettingKey,
  settingDefinition,
  settingKeys,
  type GuildSettings,
  type SettingDefinition,
  type SettingKey,
} from './setting-definitions.js';

/** Outcome of {@link checkSettingValue}: the canonical value, or what was expected instead. */
export type SettingCheck<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

/** A setting's table entry plus the phrase used in error messages (e.g. "an integer from 1 to 150"). */
export type SettingDescription = SettingDefinition & {
  /** What a valid value looks like, phrased to follow "Expected `key` to be …". */
  readonly expected: string;
};

const snowflake = /^[1-9][0-9]{0,19}$/;
const maxSnowflake = 2n ** 64n - 1n;

/** What a valid value of `definition` looks like, phrased to follow "to be" or "must be". */
export function expectedValueText(definition: SettingDefinition): string {
  switch (definition.type) {
    case 'integer': {
      const range =
        definition.multipleOf !== undefined
          ? `a multiple of ${definition.multipleOf} from ${definition.min} to ${definition.max}`
          : `an integer from ${definition.min} to ${definition.max}`;
      return definition.auto !== undefined ? `\`auto\` (${definition.auto}) or ${range}` : range;
    }
    case 'number':
      return `a number from ${definition.min} to ${definition.max}`;
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${definition.choices.map((choice) => `\`${choice}\``).join(', ')}`;
    case 'text':
      return `text of at most ${definition.maxLength} characters`;
    case 'channelList':
      return `a list of at most ${definition.maxItems} channel ids`;
    case 'wordList':
      return `a list of at most ${definition.maxItems} words or phrases of 1 to ${definition.maxItemLength} characters without commas`;
  }
}

/** The table entry of `key` with its {@link expectedValueText}. */
export function describeSetting(key: SettingKey): SettingDescription {
  const definition = settingDefinition(key);
  return Object.freeze({ ...definition, expected: expectedValueText(definition) });
}

/**
 * The setting named by user-typed `text` (exact, or differing only in letter case). Throws a
 * {@link UserError} `settings.unknownKey` with a did-you-mean suggestion otherwise.
 */
export function settingKeyFromText(text: string): SettingKey {
  const trimmed = text.trim();
  if (isSettingKey(trimmed)) return trimmed;
  const sameCase = settingKeys.find((key) => key.toLowerCase() === trimmed.toLowerCase());
  if (sameCase !== undefined) return sameCase;
  const suggestion = suggestSettingKey(trimmed);
  throw new UserError(
    'settings.unknownKey',
    `There is no setting \`${shown(trimmed)}\`.` +
      (suggestion !== undefined ? ` Did you mean \`${suggestion}\`?` : ` Settings are: ${settingKeys.map((k) => `\`${k}\``).join(', ')}.`),
  );
}

/**
 * Names people may reach for that are not settings, with the setting that does the job. `maxPixels`
 * replaces separate side limits (see `settingDefinitions`).
 */
const settingKeyHints: Readonly<Record<string, SettingKey>> = {
  maxwidth: 'maxPixels',
  maxheight: 'maxPixels',
  maxsize: 'maxPixels',
  negativeprompt: 'negativePrefix',
};

/** The setting someone probably meant by an unknown name (a known alias or a near spelling), if any. */
export function suggestSettingKey(text: string): SettingKey | undefined {
  return settingKeyHints[text.toLowerCase()] ?? (didYouMean(text, settingKeys) as SettingKey | undefined);
}

/**
 * Checks a value (from JSON, the database or {@link parseSettingValue}) against the table entry of `key`
 * and returns its canonical form: lists deduplicated, words and text trimmed with inner white space
 * collapsed to single spaces in words. Never throws.
 */
export function checkSettingValue<K extends SettingKey>(key: K, value: unknown): SettingCheck<GuildSettings[K]> {
  const definition = settingDefinition(key);
  const checked = checkAgainst(definition, value);
  return checked === undefined ? { ok: false, expected: expectedValueText(definition) } : { ok: true, value: checked as GuildSettings[K] };
}

function checkAgainst(definition: SettingDefinition, value: unknown): unknown {
  switch (definition.type) {
    case 'integer':
      if (definition.auto !== undefined && value === 'auto') return value;
      if (typeof value !== 'number' || !Number.isInteger(value)) return undefined;
      if (value < definition.min || value > definition.max) return undefined;
      if (definition.multipleOf !== undefined && value % definition.multipleOf !== 0) return undefined;
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
      return value >= definition.min && value <= definition.max ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'choice':
      return typeof value === 'string' && definition.choices.includes(value) ? value : undefined;
    case 'text': {
      if (typeof value !== 'string') return undefined;
      const text = value.trim();
      return Array.from(text).length <= definition.maxLength ? text : undefined;
    }
    case 'channelList': {
      if (!Array.isArray(value) || value.length > definition.maxItems) return undefined;
      const ids: string[] = [];
      for (const item of value) {
        if (typeof item !== 'string' || !snowflake.test(item) || BigInt(item) > maxSnowflake) return undefined;
        if (!ids.includes(item)) ids.push(item);
      }
      return Object.freeze(ids);
    }
    case 'wordList': {
      if (!Array.isArray(value) || value.length > definition.maxItems) return undefined;
      const words: string[] = [];
      for (const item of value) {
        if (typeof item !== 'string') return undefined;
        const word = item.trim().replace(/\s+/gu, ' ');
        const length = Array.from(word).length;
        if (length === 0 || length > definition.maxItemLength || word.includes(',')) return undefined;
        if (!words.some((known) => known.toLowerCase() === word.toLowerCase())) words.push(word);
      }
      return Object.freeze(words);
    }
  }
}

const trueWords = new Set(['true', 'on', 'yes', 'enable', 'enabled', '1']);
const falseWords = new Set(['false', 'off', 'no', 'disable', 'disabled', '0']);
const integerText = /^[+-]?[0-9]+$/;
const decimalText = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;
const channelToken = /^(?:<#([0-9]+)>|([0-9]+))$/;

/**
 * Parses what an admin typed after `/settings set <key>` into a valid value, or throws a
 * {@link UserError} (`settings.invalidValue`, or `settings.unknownKey` for a bad key) saying what was
 * expected. Accepted forms:
 * - numbers: `30`, `7.5`, `.5` (no exponents, no thousands separators);
 * - booleans: `true/false`, `on/off`, `yes/no`, `enable(d)/disable(d)`, `1/0`;
 * - choices: any letter case, e.g. `Euler-A`;
 * - `allowedChannels`: channel mentions (`<#123>`) or ids separated by spaces or commas; `all` (or
 *   nothing) clears the list, which allows every channel;
 * - `bannedWords`: words or phrases separated by commas or line breaks; `none` (or nothing) clears it;
 * - `negativePrefix`: the text as is; `none` (or nothing) clears it.
 */
export function parseSettingValue<K extends SettingKey>(key: K, text: string): GuildSettings[K];
export function parseSettingValue(key: string, text: string): GuildSettings[SettingKey];
export function parseSettingValue(keyText: string, text: string): GuildSettings[SettingKey] {
  const key = settingKeyFromText(keyText);
  const definition = settingDefinition(key);
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  let candidate: unknown = trimmed;
  let hint = '';
  switch (definition.type) {
    case 'integer':
      candidate = integerText.test(trimmed) ? Number(trimmed) : definition.auto !== undefined && lower === 'auto' ? 'auto' : trimmed;
      break;
    case 'number':
      candidate = decimalText.test(trimmed) ? Number(trimmed) : trimmed;
      break;
    case 'boolean':
      candidate = trueWords.has(lower) ? true : falseWords.has(lower) ? false : trimmed;
      break;
    case 'choice': {
      const choice = definition.choices.find((c) => c.toLowerCase() === lower);
      candidate = choice ?? trimmed;
      if (choice === undefined) {
        const suggestion = didYouMean(lower, definition.choices);
        if (suggestion !== undefined) hint = ` (did you mean \`${suggestion}\`?)`;
      }
      break;
    }
    case 'text':
      candidate = lower === 'none' ? '' : trimmed;
      break;
    case 'channelList': {
      if (lower === 'all' || trimmed === '') {
        candidate = [];
        break;
      }
      const ids: string[] = [];
      for (const token of trimmed.split(/[\s,]+/u).filter((t) => t !== '')) {
        const match = channelToken.exec(token);
        if (match === null) {
          throw invalidValue(key, 'channel mentions or ids separated by spaces or commas (or `all` for every channel)', token);
        }
        ids.push((match[1] ?? match[2])!);
      }
      candidate = ids;
      break;
    }
    case 'wordList':
      candidate =
        lower === 'none'
          ? []
          : trimmed
              .split(/[,\n\r]+/u)
              .map((w) => w.trim())
              .filter((w) => w !== '');
      break;
  }
  const checked = checkSettingValue(key, candidate);
  if (!checked.ok) throw invalidValue(key, checked.expected, trimmed, hint);
  return checked.value;
}

/**
 * A value as `/settings show` displays it; the text parses back to the same value with
 * {@link parseSettingValue}. Booleans read `on`/`off`, an empty channel list `all`, an empty word list or
 * text `none`, channels as mentions.
 */
export function formatSettingValue<K extends SettingKey>(key: K, value: GuildSettings[K]): string {
  const definition = settingDefinition(key);
  switch (definition.type) {
    case 'boolean':
      return value === true ? 'on' : 'off';
    case 'channelList': {
      const ids = value as readonly string[];
      return ids.length === 0 ? 'all' : ids.map((id) => `<#${id}>`).join(', ');
    }
    case 'wordList': {
      const words = value as readonly string[];
      return words.length === 0 ? 'none' : words.join(', ');
    }
    case 'text':
      return value === '' ? 'none' : String(value);
    default:
      return String(value);
  }
}

/** The {@link UserError} for a value that does not fit, worded "Expected `key` to be …, got `…`". */
export function invalidValue(key: SettingKey, expected: string, got: string, hint = ''): UserError {
  return new UserError('settings.invalidValue', `Expected \`${key}\` to be ${expected}, got \`${shown(got)}\`${hint}.`);
}

/** User text made safe to put between backticks in a message: one line, shortened, backticks replaced. */
export function shown(text: string, maxLength = 100): string {
  return shorten(oneLine(text.replace(/`/gu, "'")), maxLength);
}
