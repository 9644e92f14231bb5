import { ActionRowBuilder, ButtonBuilder, ButtonStyle, type MessageActionRowComponentBuilder } from 'discord.js';
import type { JobRecord } from '../store/index.js';
import { customId } from './custom-ids.js';

/** The buttons under a result. */
export function resultButtons(record: JobRecord, remixAvailable: boolean): ActionRowBuilder<MessageActionRowComponentBuilder>[] {
  const row = new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    new ButtonBuilder().setCustomId(customId('reroll', record.id)).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Primary),
    new ButtonBuilder()
      .setCustomId(customId('remix', record.id))
      .setLabel('Remix')
      .setEmoji('🎨')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(!remixAvailable),
    new ButtonBuilder().setCustomId(customId('info', record.id)).setLabel('Info').setEmoji('ℹ️').setStyle(ButtonStyle.Secondary),
    new ButtonBuilder().setCustomId(customId('delete', record.id)).setLabel('Delete').setEmoji('🗑️').setStyle(ButtonStyle.Danger),
  );
  return [row];
}

/** The Cancel button under a waiting or running job. */
export function cancelButton(record: JobRecord): ActionRowBuilder<MessageActionRowComponentBuilder>[] {
  return [
    new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
      new ButtonBuilder().setCustomId(customId('cancel', record.id)).setLabel('Cancel').setStyle(ButtonStyle.Secondary),
    ),
  ];
}
