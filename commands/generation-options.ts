import type { ChatInputCommandInteraction, SlashCommandBuilder, SlashCommandOptionsOnlyBuilder } from 'discord.js';
import { schedulerLabel, schedulerNames } from '../src/schedulers/index.js';
import { imageSide, maxPromptLength, type UserGenerationOptions } from '../src/settings/index.js';

/**
 * The generation options `/imagine` and `/remix` share. Discord option names are lowercase; this module and
 * the command files are the only place they are mapped to the pipeline's names.
 */
export function addGenerationOptions(builder: SlashCommandOptionsOnlyBuilder | SlashCommandBuilder): SlashCommandOptionsOnlyBuilder {
  return builder
    .addStringOption((o) =>
      o.setName('negative').setDescription('What to keep out of the picture (negative prompt)').setMaxLength(maxPromptLength),
    )
    .addStringOption((o) =>
      o.setName('seed').setDescription('Seed (0 to 18446744073709551615) to reproduce a picture; random if empty').setMaxLength(20),
    )
    .addIntegerOption((o) =>
      o.setName('steps').setDescription('Denoising steps (more is slower, often better)').setMinValue(1).setMaxValue(150),
    )
    .addNumberOption((o) =>
      o
        .setName('guidance')
        .setDescription('How strictly to follow the prompt (CFG scale; 0 or 1 turns it off)')
        .setMinValue(0)
        .setMaxValue(30),
    )
    .addIntegerOption((o) => o.setName('width').setDescription('Width in pixels').setMinValue(imageSide.min).setMaxValue(imageSide.max))
    .addIntegerOption((o) => o.setName('height').setDescription('Height in pixels').setMinValue(imageSide.min).setMaxValue(imageSide.max))
    .addStringOption((o) =>
      o
        .setName('scheduler')
        .setDescription('Sampler')
        .addChoices(...schedulerNames.map((name) => ({ name: `${schedulerLabel(name)} (${name})`, value: name }))),
    )
    .addIntegerOption((o) => o.setName('count').setDescription('How many pictures (1-4)').setMinValue(1).setMaxValue(4));
}

/** Reads the shared options of a slash command interaction. */
export function readGenerationOptions(
  interaction: ChatInputCommandInteraction,
): Omit<UserGenerationOptions, 'kind' | 'prompt' | 'strength'> {
  const { options } = interaction;
  return {
    negativePrompt: options.getString('negative'),
    seed: options.getString('seed'),
    steps: options.getInteger('steps'),
    guidance: options.getNumber('guidance'),
    width: options.getInteger('width'),
    height: options.getInteger('height'),
    scheduler: options.getString('scheduler'),
    count: options.getInteger('count'),
  };
}
