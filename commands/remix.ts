import { SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { SlashCommandModule } from '../src/bot/command-module.js';
import { jobOfMessage } from '../src/bot/job-lookup.js';
import { placeOf } from '../src/bot/place.js';
import { runInteractionRequest } from '../src/bot/run-request.js';
import { latestImageIn, noHistoryError, readHistoryPermission, sourceFromAttachment } from '../src/bot/source-images.js';
import { UserError } from '../src/errors.js';
import { maxPromptLength } from '../src/settings/index.js';
import { addGenerationOptions, readGenerationOptions } from './generation-options.js';

/** `/remix prompt:<text> [image] [strength]`: image to image, on an attachment or the channel's latest picture. */
export const remix: SlashCommandModule = {
  kind: 'slash',
  data: addGenerationOptions(
    new SlashCommandBuilder()
      .setName('remix')
      .setDescription('Redraw a picture following a prompt')
      .addStringOption((o) =>
        o.setName('prompt').setDescription('What the remix should look like').setRequired(true).setMaxLength(maxPromptLength),
      )
      .addAttachmentOption((o) => o.setName('image').setDescription('Picture to remix (default: the latest picture in this channel)'))
      .addNumberOption((o) =>
        o.setName('strength').setDescription('How much to change (0 = keep, 1 = redraw completely)').setMinValue(0).setMaxValue(1),
      ),
  ).toJSON(),

  async execute(command, context) {
    const attachment = command.options.getAttachment('image');
    if (attachment && attachment.contentType && !attachment.contentType.startsWith('image/')) {
      throw new UserError(
        'image.notAnImage',
        `\`${attachment.name}\` is not a picture (${attachment.contentType}). Attach a PNG, JPEG, WebP, GIF or AVIF.`,
      );
    }
    const place = placeOf(command);
    const canReadHistory = place.botPermissions?.has(readHistoryPermission) ?? false;
    // Known before any network call, so the refusal is a plain private reply.
    if (!attachment && !canReadHistory) throw noHistoryError();
    // Looking through the channel is a network call: acknowledge first, as Discord gives only 3 seconds.
    const found = attachment
      ? { source: sourceFromAttachment(attachment), message: null }
      : await deferThen(command, () => latestImageIn(command.channel, canReadHistory));
    await runInteractionRequest(command, context, {
      kind: 'remix',
      ...place,
      userOptions: {
        prompt: command.options.getString('prompt', true),
        strength: command.options.getNumber('strength'),
        ...readGenerationOptions(command),
      },
      source: found.source,
      parentJobId: found.message ? (jobOfMessage(context, found.message)?.id ?? null) : null,
    });
  },
};

async function deferThen<T>(interaction: ChatInputCommandInteraction, work: () => Promise<T>): Promise<T> {
  await interaction.deferReply();
  return work();
}
