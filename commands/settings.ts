import { MessageFlags, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import type { SlashCommandModule } from '../src/bot/command-module.js';
import { settingsFor } from '../src/bot/context.js';
import { fitLines, fitMessage, maxMessageLength, quote, type MessagePart } from '../src/bot/discord-text.js';
import { UserError } from '../src/errors.js';
import { codePointLength } from '../src/text.js';
import {
  describeSetting,
  formatSettingValue,
  guildSettingKeys,
  parseSettingValue,
  settingKeyFromText,
  validateGuildSettings,
  type EffectiveSettings,
  type SettingKey,
} from '../src/settings/index.js';

const keyChoices = guildSettingKeys.map((key) => ({ name: key, value: key }));

/**
 * `/settings show|set|reset`: per-server defaults and limits, for members with Manage Server. Discord hides
 * the command from others (`default_member_permissions`), and the permission is checked again here because
 * server admins can change who sees a command.
 */
export const settings: SlashCommandModule = {
  kind: 'slash',
  data: new SlashCommandBuilder()
    .setName('settings')
    .setDescription("Show or change this server's image generation defaults and limits")
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setDMPermission(false)
    .addSubcommand((s) => s.setName('show').setDescription('Show the settings in force here'))
    .addSubcommand((s) =>
      s
        .setName('set')
        .setDescription('Change one setting')
        .addStringOption((o) =>
          o
            .setName('key')
            .setDescription('Setting')
            .setRequired(true)
            .addChoices(...keyChoices),
        )
        .addStringOption((o) =>
          o
            .setName('value')
            .setDescription('New value (channels: mentions or ids; words: comma separated)')
            .setRequired(true)
            .setMaxLength(1500),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName('reset')
        .setDescription('Go back to the default for one setting, or all')
        .addStringOption((o) =>
          o
            .setName('key')
            .setDescription('Setting (all when empty)')
            .addChoices(...keyChoices),
        ),
    )
    .toJSON(),

  async execute(command, context) {
    const guildId = command.guildId;
    if (!guildId) throw new UserError('settings.dm', 'Settings belong to a server; use this command in one.');
    if (!command.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
      throw new UserError('access.settings', 'Only members with the Manage Server permission can change these settings.');
    }
    const reply = (content: string) => command.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
    const sub = command.options.getSubcommand(true);
    if (sub === 'show') {
      await reply(renderSettings(settingsFor(context, guildId), context.store.getGuildSettings(guildId), context.model.safetyChecker));
      return;
    }
    if (sub === 'set') {
      const key = settingKeyFromText(command.options.getString('key', true));
      const value = parseSettingValue(key, command.options.getString('value', true));
      const defaults = context.defaults;
      // Validate the whole set with the new value, so a default can never exceed its limit.
      validateGuildSettings({ ...context.store.getGuildSettings(guildId), [key]: value }, defaults);
      context.store.setGuildSetting(guildId, key, value as never, command.user.id);
      context.logger.info({ guild: guildId, user: command.user.id, key }, 'setting changed');
      await reply(fitMessage([`✅ \`${key}\` is now `, shownValue(key, value), '.']));
      return;
    }
    const keyText = command.options.getString('key');
    const key = keyText ? settingKeyFromText(keyText) : undefined;
    const removed = context.store.resetGuildSettings(guildId, key);
    context.logger.info({ guild: guildId, user: command.user.id, key: key ?? 'all' }, 'settings reset');
    await reply(
      key
        ? fitMessage([`✅ \`${key}\` is back to its default (`, shownValue(key, settingsFor(context, guildId)[key]), ').'])
        : `✅ All ${removed} server setting${removed === 1 ? '' : 's'} reset to the defaults.`,
    );
  },
};

/** A value as `/settings` shows it; free text (a prefix, banned words) is quoted, so it shows as typed. */
function shownValue(key: SettingKey, value: unknown): MessagePart {
  const text = formatSettingValue(key, value as never);
  const { type } = describeSetting(key);
  return type === 'text' || type === 'wordList' ? quote(text, 1000) : text;
}

/** What `/settings show` says above the safety settings when the model folder has no safety checker. */
export const noSafetyCheckerNote = '⚠️ No safety checker in the model: pictures are not checked, the Safety settings have no effect.';

/** A description's first clause (before a colon or a parenthesis): what `/settings show` says when space is short. */
function briefDescription(description: string): string {
  return description.replace(/\s*[(:].*$/su, '');
}

/**
 * Every setting with its value and what it does. When the whole list with full descriptions does not fit in one
 * message, the descriptions are cut to their first clause, so the values (which matter more) are never shortened.
 */
function renderSettings(effective: EffectiveSettings, overrides: Readonly<Record<string, unknown>>, safetyChecker: boolean): string {
  const full = renderSettingLines(effective, overrides, safetyChecker, (text) => text);
  if (codePointLength(fitLines(full, Number.MAX_SAFE_INTEGER)) <= maxMessageLength) return fitLines(full);
  return fitLines(renderSettingLines(effective, overrides, safetyChecker, briefDescription));
}

function renderSettingLines(
  effective: EffectiveSettings,
  overrides: Readonly<Record<string, unknown>>,
  safetyChecker: boolean,
  describe: (description: string) => string,
): (MessagePart | MessagePart[])[] {
  const line = (key: SettingKey): MessagePart[] => {
    const mark = key in overrides ? ' *(set here)*' : '';
    return [`\`${key}\` `, shownValue(key, effective[key]), `${mark} — ${describe(describeSetting(key).description)}`];
  };
  const defaults = guildSettingKeys.filter((key) => describeSetting(key).group === 'defaults');
  const limits = guildSettingKeys.filter((key) => describeSetting(key).group === 'limits');
  const features = guildSettingKeys.filter((key) => describeSetting(key).group === 'features');
  const safety = guildSettingKeys.filter((key) => describeSetting(key).group === 'safety');
  // The safety checker's note comes before everything else, so that no shortening can cut it off.
  return [
    ...(safetyChecker ? [] : [noSafetyCheckerNote, '']),
    '**Defaults**',
    ...defaults.map(line),
    '',
    '**Limits**',
    ...limits.map(line),
    '',
    '**Previews, Vary and Upscale**',
    ...features.map(line),
    '',
    '**Safety**',
    ...safety.map(line),
  ];
}
