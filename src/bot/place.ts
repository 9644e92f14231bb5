import type { BaseInteraction, Channel, Message } from 'discord.js';

/** Who asked where, as a generation request needs it. */
export interface RequestPlace {
  readonly userId: string;
  readonly guildId: string | null;
  readonly channelId: string;
  readonly parentChannelId: string | null;
  /** Whether the channel is age-restricted (Discord's `nsfw` flag; a thread has its parent's). */
  readonly ageRestricted: boolean;
  readonly botPermissions?: BaseInteraction['appPermissions'];
}

/**
 * Whether Discord marks the channel age-restricted (its `nsfw` flag). A thread is as its parent channel (threads
 * carry no flag of their own); direct messages never are.
 */
export function isAgeRestricted(channel: Channel | null | undefined): boolean {
  if (!channel || channel.isDMBased()) return false;
  if (channel.isThread()) return channel.parent?.nsfw ?? false;
  return 'nsfw' in channel && channel.nsfw === true;
}

/** The place of an interaction; threads report their parent channel for allowed-channel checks. */
export function placeOf(interaction: BaseInteraction): RequestPlace {
  const channel = interaction.channel;
  return {
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId ?? '',
    parentChannelId: channel && 'parentId' in channel ? (channel.parentId ?? null) : null,
    ageRestricted: isAgeRestricted(channel),
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
    ageRestricted: isAgeRestricted(channel),
  };
}
