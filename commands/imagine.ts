import { SlashCommandBuilder } from 'discord.js';
import type { SlashCommandModule } from '../src/bot/command-module.js';
import { placeOf } from '../src/bot/place.js';
import { runInteractionRequest } from '../src/bot/run-request.js';
import { maxPromptLength } from '../src/settings/index.js';
import { addGenerationOptions, readGenerationOptions } from './generation-options.js';

/** `/imagine prompt:<text>`: text to image. */
export const imagine: SlashCommandModule = {
  kind: 'slash',
  data: addGenerationOptions(
    new SlashCommandBuilder()
      .setName('imagine')
      .setDescription('Create a picture from a text prompt')
      .addStringOption((o) => o.setName('prompt').setDescription('What to draw').setRequired(true).setMaxLength(maxPromptLength)),
  ).toJSON(),

  async execute(interaction, context) {
    await runInteractionRequest(interaction, context, {
      kind: 'imagine',
      ...placeOf(interaction),
      userOptions: { prompt: interaction.options.getString('prompt', true), ...readGenerationOptions(interaction) },
    });
  },
};
