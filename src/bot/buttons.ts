import { ActionRowBuilder, ButtonBuilder, ButtonStyle, type MessageActionRowComponentBuilder } from 'discord.js';
import type { JobRecord } from '../store/index.js';
import { customId, type ComponentAction } from './custom-ids.js';

type Row = ActionRowBuilder<MessageActionRowComponentBuilder>;

/** What a result's buttons may offer besides Reroll, Info and Delete. */
export interface ResultActions {
  /** The model can draw from a picture (it has a VAE encoder): Remix and Vary work. */
  readonly imageToImage: boolean;
  /** Upscale ×2 is offered: the server's `upscale` setting is not `off` and what it needs is there. */
  readonly upscale: boolean;
}

/** The buttons that act on one picture of a result, with their label for a single picture and their emoji. */
const pictureButtons = [
  { action: 'vary-subtle', label: 'Vary (Subtle)', short: 'Subtle', emoji: '🪄', style: ButtonStyle.Secondary },
  { action: 'vary-strong', label: 'Vary (Strong)', short: 'Strong', emoji: '🌀', style: ButtonStyle.Secondary },
  { action: 'upscale', label: 'Upscale ×2', short: 'Upscale', emoji: '🔍', style: ButtonStyle.Secondary },
] as const satisfies readonly { action: ComponentAction; label: string; short: string; emoji: string; style: ButtonStyle }[];

/**
 * The buttons under a result: Reroll, Remix, Info and Delete, then Vary (Subtle), Vary (Strong) and Upscale ×2
 * for the picture. A result of several pictures gets one row per action with a button per picture (`Subtle 2`
 * acts on the second picture), as Midjourney's U1–U4/V1–V4 rows. Vary needs image-to-image (disabled like Remix
 * without it); Upscale is left out when the server turned it off. Discord allows five rows of five buttons.
 */
export function resultButtons(record: JobRecord, imageCount: number, actions: ResultActions): Row[] {
  const main = new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
    new ButtonBuilder().setCustomId(customId('reroll', record.id)).setLabel('Reroll').setEmoji('🎲').setStyle(ButtonStyle.Primary),
    new ButtonBuilder()
      .setCustomId(customId('remix', record.id))
      .setLabel('Remix')
      .setEmoji('🎨')
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(!actions.imageToImage),
    new ButtonBuilder().setCustomId(customId('info', record.id)).setLabel('Info').setEmoji('ℹ️').setStyle(ButtonStyle.Secondary),
    new ButtonBuilder().setCustomId(customId('delete', record.id)).setLabel('Delete').setEmoji('🗑️').setStyle(ButtonStyle.Danger),
  );
  const offered = pictureButtons.filter((button) => button.action !== 'upscale' || actions.upscale);
  const enabled = (action: ComponentAction) => action === 'upscale' || actions.imageToImage;
  const pictures = Math.max(1, Math.min(imageCount, 5));
  if (pictures === 1) {
    const row = new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
      offered.map((button) =>
        new ButtonBuilder()
          .setCustomId(customId(button.action, record.id, '0'))
          .setLabel(button.label)
          .setEmoji(button.emoji)
          .setStyle(button.style)
          .setDisabled(!enabled(button.action)),
      ),
    );
    return [main, row];
  }
  return [
    main,
    ...offered.map((button) =>
      new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
        Array.from({ length: pictures }, (_, index) =>
          new ButtonBuilder()
            .setCustomId(customId(button.action, record.id, String(index)))
            .setLabel(`${button.short} ${index + 1}`)
            .setEmoji(button.emoji)
            .setStyle(button.style)
            .setDisabled(!enabled(button.action)),
        ),
      ),
    ),
  ];
}

/** The Cancel button under a waiting or running job. */
export function cancelButton(record: JobRecord): Row[] {
  return [
    new ActionRowBuilder<MessageActionRowComponentBuilder>().addComponents(
      new ButtonBuilder().setCustomId(customId('cancel', record.id)).setLabel('Cancel').setStyle(ButtonStyle.Secondary),
    ),
  ];
}
