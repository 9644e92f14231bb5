import { UserError } from '../errors.js';
import type { EffectiveSettings } from './setting-definitions.js';

/** Where a command was used. */
export interface CommandPlace {
  /** The channel (or thread) id. */
  readonly channelId: string;
  /** The parent channel of a thread or forum post, if any: threads follow their channel's permission. */
  readonly parentChannelId?: string | null;
}

/**
 * Throws {@link UserError} `access.channel` unless `allowedChannels` is empty or lists the channel (or
 * the parent of the thread) the command was used in.
 */
export function checkChannelAllowed(settings: EffectiveSettings, place: CommandPlace): void {
  const allowed = settings.allowedChannels;
  if (allowed.length === 0 || allowed.includes(place.channelId)) return;
  if (place.parentChannelId !== undefined && place.parentChannelId !== null && allowed.includes(place.parentChannelId)) return;
  const shownChannels = allowed
    .slice(0, 10)
    .map((id) => `<#${id}>`)
    .join(', ');
  throw new UserError(
    'access.channel',
    `This server only allows image generation in ${shownChannels}${allowed.length > 10 ? ' and other channels' : ''}.`,
  );
}

/** Throws {@link UserError} `access.dm` unless the configuration (`guildDefaults.allowDMs`) allows direct messages. */
export function checkDMsAllowed(defaults: EffectiveSettings): void {
  if (!defaults.allowDMs)
    throw new UserError('access.dm', 'This bot does not take requests in direct messages; please use it in a server.');
}

/**
 * Milliseconds a user still has to wait, given when their last job was created (ms since the epoch, or
 * `undefined` if never) and the current time; 0 when they may go ahead.
 */
export function cooldownRemainingMs(settings: EffectiveSettings, lastJobAt: number | undefined, now: number): number {
  if (lastJobAt === undefined || settings.cooldownSeconds === 0) return 0;
  return Math.max(0, lastJobAt + settings.cooldownSeconds * 1000 - now);
}

/** Throws {@link UserError} `access.cooldown` while {@link cooldownRemainingMs} is above 0. */
export function checkCooldown(settings: EffectiveSettings, lastJobAt: number | undefined, now: number): void {
  const remaining = cooldownRemainingMs(settings, lastJobAt, now);
  if (remaining > 0) {
    const seconds = Math.ceil(remaining / 1000);
    throw new UserError(
      'access.cooldown',
      `Please wait ${seconds} more second${seconds === 1 ? '' : 's'} (the cooldown here is ${settings.cooldownSeconds} s).`,
    );
  }
}

/** Throws {@link UserError} `access.userQueueLimit` when a user already has `activeJobs` ≥ `userQueueLimit` jobs queued or running. */
export function checkUserQueueLimit(settings: EffectiveSettings, activeJobs: number): void {
  if (activeJobs >= settings.userQueueLimit) {
    throw new UserError(
      'access.userQueueLimit',
      `You already have ${activeJobs} job${activeJobs === 1 ? '' : 's'} waiting or running; ` +
        `the limit here is ${settings.userQueueLimit}. Please wait for one to finish.`,
    );
  }
}
