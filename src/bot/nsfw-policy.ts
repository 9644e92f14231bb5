import type { EffectiveSettings } from '../settings/index.js';

/** What happens to one picture: posted as it is, posted as a spoiler, or not posted at all. */
export type PictureFate = 'show' | 'spoiler' | 'block';

/** Where a result goes, as far as the NSFW policy is concerned. */
export interface ResultPlace {
  /** A server's channel (`false`: direct messages, which follow the configuration's defaults). */
  readonly inServer: boolean;
  /** Whether the channel is age-restricted (Discord's `nsfw` flag). */
  readonly ageRestricted: boolean;
}

/** The fate of every picture of a result, decided before anything is uploaded. */
export interface NsfwDecision {
  /** One per picture, in order. */
  readonly fates: readonly PictureFate[];
  /** How many pictures the safety checker flagged. */
  readonly flagged: number;
  /** How many of them are not posted. */
  readonly blocked: number;
  /** Why flagged pictures were not posted, for their requester alone; absent when none was blocked. */
  readonly privateNotice?: string;
}

/**
 * Decides what happens to each picture of a result: pictures the safety checker did not flag (or every picture,
 * when there is no checker: `flagged` absent) are shown; a flagged one follows `nsfwAgeRestricted` in an
 * age-restricted channel and `nsfw` elsewhere — direct messages included, where the configuration's defaults
 * are the settings (`block` unless the owner chose otherwise).
 */
export function decideNsfw(
  flagged: readonly boolean[] | undefined,
  count: number,
  settings: EffectiveSettings,
  place: ResultPlace,
): NsfwDecision {
  const action: PictureFate = place.ageRestricted ? settings.nsfwAgeRestricted : settings.nsfw;
  const fates = Array.from({ length: count }, (_, i): PictureFate => (flagged?.[i] === true ? action : 'show'));
  const flaggedCount = flagged ? flagged.slice(0, count).filter(Boolean).length : 0;
  const blocked = fates.filter((fate) => fate === 'block').length;
  return {
    fates,
    flagged: flaggedCount,
    blocked,
    ...(blocked > 0 ? { privateNotice: blockedNotice(blocked, count, place) } : {}),
  };
}

/** The requester's private explanation of pictures that were not posted. */
function blockedNotice(blocked: number, count: number, place: ResultPlace): string {
  const which =
    count === 1
      ? 'The safety checker flagged your picture as possibly not safe for work, so it was not posted'
      : blocked === count
        ? `The safety checker flagged your ${count} pictures as possibly not safe for work, so they were not posted`
        : `The safety checker flagged ${blocked} of your ${count} pictures as possibly not safe for work, so ${blocked === 1 ? 'it was' : 'they were'} not posted`;
  const where = !place.inServer
    ? 'flagged pictures are not sent in direct messages'
    : place.ageRestricted
      ? 'this server does not post flagged pictures, not even in age-restricted channels'
      : 'this server posts flagged pictures only in age-restricted channels';
  return `🔞 ${which}: ${where}. ${blocked === 1 ? 'It was' : 'They were'} not kept anywhere.`;
}

/** Discord shows an attachment blurred until clicked when its file name starts with `SPOILER_`. */
export function spoilerFileName(name: string): string {
  return name.startsWith('SPOILER_') ? name : `SPOILER_${name}`;
}

/** The public text that replaces the progress message when no picture of a result may be posted. */
export function withheldText(count: number): string {
  return count === 1 ? '🚫 This picture was not posted.' : '🚫 These pictures were not posted.';
}
