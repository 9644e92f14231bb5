import { UserError } from '../errors.js';
import {
  imageSide,
  isSettingKey,
  settingDefinition,
  type EffectiveSettings,
  type GuildSettings,
  type SettingKey,
} from './setting-definitions.js';
import { checkSettingValue, formatSettingValue, invalidValue, shown, suggestSettingKey } from './setting-values.js';

/** Per-server overrides as stored: any subset of the settings. */
export type GuildSettingOverrides = Partial<GuildSettings>;

/** A rule between two settings that a complete set of settings breaks. */
export interface SettingConflict {
  /** The default that is too large, then the limit it breaks. */
  readonly keys: readonly [SettingKey, ...SettingKey[]];
  /** Explanation for an admin, naming both settings and their values. */
  readonly message: string;
}

/**
 * The cross-field rules a complete set of settings must keep: a default may not exceed its limit
 * (`steps` ≤ `maxSteps`; `width` × `height` ≤ `maxPixels`). Returns the broken ones (empty if none).
 */
export function findSettingConflicts(settings: GuildSettings): SettingConflict[] {
  const conflicts: SettingConflict[] = [];
  if (settings.steps > settings.maxSteps) {
    conflicts.push({
      keys: ['steps', 'maxSteps'],
      message: `\`steps\` (${settings.steps}) may not exceed \`maxSteps\` (${settings.maxSteps}).`,
    });
  }
  if (settings.width * settings.height > settings.maxPixels) {
    conflicts.push({
      keys: ['width', 'height', 'maxPixels'],
      message:
        `\`width\` × \`height\` (${settings.width}×${settings.height} = ${settings.width * settings.height} pixels) ` +
        `may not exceed \`maxPixels\` (${settings.maxPixels}).`,
    });
  }
  return conflicts;
}

/**
 * Validates per-server overrides on top of complete, valid defaults (`config.guildDefaults`) and returns
 * the frozen effective settings. Use it before storing a change (`/settings set`): it throws a
 * {@link UserError} for an unknown key (`settings.unknownKey`, with a suggestion), a key only the
 * configuration file may set (`settings.configOnly`), a bad value (`settings.invalidValue`) or a broken
 * cross-field rule (`settings.conflict`).
 */
export function validateGuildSettings(partial: Readonly<Record<string, unknown>>, defaults: EffectiveSettings): EffectiveSettings {
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    if (!isSettingKey(key)) {
      const suggestion = suggestSettingKey(key);
      throw new UserError(
        'settings.unknownKey',
        `There is no setting \`${shown(key)}\`.` + (suggestion !== undefined ? ` Did you mean \`${suggestion}\`?` : ''),
      );
    }
    if (settingDefinition(key).configOnly === true) {
      throw new UserError('settings.configOnly', `\`${key}\` can only be changed in the bot's configuration file.`);
    }
    const checked = checkSettingValue(key, value);
    if (!checked.ok) {
      throw invalidValue(key, checked.expected, typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));
    }
    merged[key] = checked.value;
  }
  const settings = merged as unknown as GuildSettings;
  const [conflict] = findSettingConflicts(settings);
  if (conflict !== undefined) {
    const [defaultKey, ...limitKeys] = conflict.keys;
    throw new UserError(
      'settings.conflict',
      `${conflict.message} Lower \`${defaultKey}\` first or raise \`${limitKeys[limitKeys.length - 1]}\`.`,
    );
  }
  return Object.freeze(settings);
}

/** A stored override that {@link effectiveGuildSettings} could not use as is. */
export interface SettingProblem {
  /** The setting concerned (or the unknown key as stored). */
  readonly key: string;
  /** What was wrong and what was used instead. */
  readonly message: string;
}

/** Result of {@link effectiveGuildSettings}. */
export interface EffectiveSettingsResult {
  /** Complete, consistent, frozen settings. */
  readonly settings: EffectiveSettings;
  /** What had to be ignored or adjusted (log these as warnings); empty normally. */
  readonly problems: readonly SettingProblem[];
}

function roundDownTo8(value: number): number {
  return Math.floor(value / imageSide.multipleOf) * imageSide.multipleOf;
}

/**
 * The settings that apply to a server, never failing: stored overrides on top of `defaults`. Meant for
 * reading what is stored, which may have gone stale after an upgrade, a downgrade or a change of
 * `config/default.json`. Unknown keys, configuration-only keys and invalid values are ignored; a default
 * above its limit is lowered to the limit (limits protect the machine, so they win): `steps` to
 * `maxSteps`, and `width`/`height` scaled down, keeping their ratio and multiples of 8, to fit `maxPixels`.
 * Each adjustment is reported in `problems`.
 */
export function effectiveGuildSettings(overrides: Readonly<Record<string, unknown>>, defaults: EffectiveSettings): EffectiveSettingsResult {
  const problems: SettingProblem[] = [];
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!isSettingKey(key)) {
      problems.push({ key, message: `unknown setting \`${key}\` ignored` });
      continue;
    }
    if (settingDefinition(key).configOnly === true) {
      problems.push({ key, message: `\`${key}\` can only be set in the configuration file; server value ignored` });
      continue;
    }
    const checked = checkSettingValue(key, value);
    if (!checked.ok) {
      problems.push({ key, message: `stored \`${key}\` is not ${checked.expected}; using the default` });
      continue;
    }
    merged[key] = checked.value;
  }
  const settings = merged as unknown as GuildSettings;
  if (settings.steps > settings.maxSteps) {
    problems.push({ key: 'steps', message: `\`steps\` ${settings.steps} lowered to \`maxSteps\` ${settings.maxSteps}` });
    settings.steps = settings.maxSteps;
  }
  if (settings.width * settings.height > settings.maxPixels) {
    const { width, height, maxPixels } = settings;
    const scale = Math.sqrt(maxPixels / (width * height));
    let newHeight = Math.max(imageSide.min, roundDownTo8(height * scale));
    const newWidth = Math.max(imageSide.min, Math.min(roundDownTo8(width * scale), roundDownTo8(maxPixels / newHeight)));
    if (newWidth * newHeight > maxPixels) newHeight = Math.max(imageSide.min, roundDownTo8(maxPixels / newWidth));
    settings.width = newWidth;
    settings.height = newHeight;
    problems.push({
      key: 'width',
      message: `${width}×${height} exceeds \`maxPixels\` ${formatSettingValue('maxPixels', maxPixels)}; using ${newWidth}×${newHeight}`,
    });
  }
  return { settings: Object.freeze(settings), problems };
}
