import { GuildMember, PermissionFlagsBits, type Channel, type Interaction } from 'discord.js';
import { UserError } from '../errors.js';
import type { JobRecord } from '../store/index.js';

/** Where an interaction happened, as far as access to jobs and pictures goes. */
export interface InteractionPlace {
  readonly guildId: string | null;
  readonly channelId: string | null;
}

/**
 * `access.otherPlace`: a button or form names a job of another server (or another direct-message channel). Ids
 * in `custom_id`s come from the client, so they are checked like any other input.
 */
export function notFromHere(): UserError {
  return new UserError('access.otherPlace', 'That picture was made somewhere else; its buttons and forms only work where it was posted.');
}

/**
 * Throws {@link notFromHere} unless the job was asked for in the interaction's server — in direct messages, in
 * the same direct-message channel (`null === null` would let every DM job through).
 */
export function checkJobIsHere(job: Pick<JobRecord, 'guildId' | 'channelId'>, place: InteractionPlace): void {
  if (job.guildId !== place.guildId) throw notFromHere();
  if (job.guildId === null && job.channelId !== place.channelId) throw notFromHere();
}

/** The permissions a member needs in a channel to remix a picture posted there. */
const viewPermissions = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory;

/**
 * Throws `access.sourceChannel` unless the person behind `interaction` may see the messages of `channel`: it is
 * in the interaction's server and the member has View Channel and Read Message History there; in direct
 * messages it is the interaction's own channel. Used before a message named by a `custom_id` is read for them.
 */
export function checkMayReadChannel(interaction: Interaction, channel: Channel): void {
  const refused = new UserError('access.sourceChannel', 'I can only remix a picture from a channel of this server that you can see.');
  if (channel.isDMBased()) {
    if (interaction.guildId !== null || channel.id !== interaction.channelId) throw refused;
    return;
  }
  if (channel.guildId !== interaction.guildId) throw refused;
  const member = interaction.member;
  // The interaction's member is in discord.js's cache (it comes with every guild interaction); a raw API member
  // means the server is not cached, and then nothing can be checked.
  const permissions = member instanceof GuildMember ? channel.permissionsFor(member) : null;
  if (!permissions || !permissions.has(viewPermissions)) throw refused;
}
