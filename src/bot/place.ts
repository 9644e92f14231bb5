import type { BaseInteraction, Message } from 'discord.js';

/** Who asked where, as a generation request needs it. */
export interface RequestPlace {
  readonly userId: string;
  readonly guildId: string | null;
  readonly channelId: string;
  readonly parentChannelId: string | null;
  readonly botPermissions?: BaseInteraction['appPermissions'];
}

/** The place of an interaction; threads report their parent channel for allowed-channel checks. */
export function placeOf(interaction: BaseInteraction): RequestPlace {
  const channel = interaction.channel;
  return {
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId ?? '',
    parentChannelId: channel && 'parentId' in channel ? (channel.parentId ?? null) : null,
    botPermissions: interaction.appPermissions,
  };
}

/** The place of a message. */
export function placeOfMessage(message: Message): RequestPlace {
  const channel = message.channel;
  return {
    userId: message.author.id,
    guildId: message.guildId,
    channelId: message.channelId,
    parentChannelId: 'parentId' in channel ? (channel.parentId ?? null) : null,
  };
}
