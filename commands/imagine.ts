import { SlashCommandBuilder, type ChatInputCommandInteraction } from 'discord.js';
import type { CommandModule } from '../src/bot/command-module.js';
import type { BotContext } from '../src/bot/context.js';
import { placeOf } from '../src/bot/place.js';
import { runInteractionRequest } from '../src/bot/run-request.js';
import { maxPromptLength } from '../src/settings/index.js';
import { addGenerationOptions, readGenerationOptions } from './generation-options.js';

/** `/imagine prompt:<text>`: text to image. */
export const imagine: CommandModule = {
  data: addGenerationOptions(
    new SlashCommandBuilder()
      .setName('imagine')
      .setDescription('Create a picture from a text prompt')
      .addStringOption((o) => o.setName('prompt').setDescription('What to draw').setRequired(true).setMaxLength(maxPromptLength)),
  ).toJSON(),

  async execute(interaction, context: BotContext) {
    const command = interaction as ChatInputCommandInteraction;
    await runInteractionRequest(command, context, {
      kind: 'imagine',
      ...placeOf(command),
      userOptions: { prompt: command.options.getString('prompt', true), ...readGenerationOptions(command) },
    });
  },
};
