import { PermissionFlagsBits, type PermissionsBitField } from 'discord.js';
import { noImageToRemix, noVaeEncoder, UserError } from '../errors.js';
import { prepareInitImage, type InitImage } from '../image/index.js';
import type { JobRequest } from '../jobs/job-runner.js';
import type { JobOperation } from '../store/index.js';
import { fetchAttachment } from '../net/fetch-attachment.js';
import {
  denoisingSteps,
  previewEveryStepsFor,
  checkChannelAllowed,
  checkCooldown,
  checkDMsAllowed,
  checkUserQueueLimit,
  imageSide,
  resolveGenerationOptions,
  type EffectiveSettings,
  type GenerationOptions,
  type UserGenerationOptions,
} from '../settings/index.js';
import { settingsFor, type BotContext } from './context.js';
import { byteSize } from '../byte-size.js';

/** A picture to remix, as Discord describes it. */
export interface SourceImage {
  readonly url: string;
  /** Size Discord reports, checked before downloading. */
  readonly size?: number;
  readonly contentType?: string | null;
  readonly name?: string;
}

/** A generation request from any entry point (slash command, context menu, button, mention). */
export interface GenerationRequest {
  readonly kind: 'imagine' | 'remix';
  readonly userId: string;
  readonly guildId: string | null;
  readonly channelId: string;
  /** Parent channel of a thread, for allowed-channel checks. */
  readonly parentChannelId?: string | null;
  /** Whether the channel is age-restricted (`requireAgeRestrictedChannel`); absent: it is not. */
  readonly ageRestricted?: boolean;
  readonly userOptions: UserGenerationOptions;
  readonly source?: SourceImage;
  readonly parentJobId?: string | null;
  /** The result button a remix came from (Vary, Upscale), if any. */
  readonly operation?: JobOperation;
  /** The bot's permissions in the channel, when Discord told us (interactions carry them). */
  readonly botPermissions?: Readonly<PermissionsBitField> | null;
}

/** A request that passed every check that needs no I/O. */
export interface CheckedRequest {
  readonly request: GenerationRequest;
  readonly settings: EffectiveSettings;
  readonly options: GenerationOptions;
}

const neededPermissions = [
  [PermissionFlagsBits.ViewChannel, 'View Channel'],
  [PermissionFlagsBits.SendMessages, 'Send Messages'],
  [PermissionFlagsBits.AttachFiles, 'Attach Files'],
] as const;

/**
 * Every check that needs no network: place, permissions, cooldown, per-user limit (places held by requests
 * not queued yet count as jobs), room in the queue, options and banned words. Runs before the interaction
 * is acknowledged, so a refusal can be a private (ephemeral) reply and nothing is queued. Throws UserErrors.
 */
export function checkRequest(context: BotContext, request: GenerationRequest): CheckedRequest {
  const settings = settingsFor(context, request.guildId);
  if (request.guildId === null) checkDMsAllowed(settings);
  else checkChannelAllowed(settings, { channelId: request.channelId, parentChannelId: request.parentChannelId ?? null });
  if (settings.requireAgeRestrictedChannel && request.ageRestricted !== true) throw ageRestrictedChannelRequired(request.guildId);

  if (request.botPermissions) {
    const missing = neededPermissions.filter(([flag]) => !request.botPermissions!.has(flag)).map(([, name]) => name);
    if (missing.length > 0) {
      throw new UserError(
        'access.botPermissions',
        `I need the ${missing.join(', ')} permission${missing.length > 1 ? 's' : ''} in this channel to post pictures. ` +
          `Ask a server admin to grant ${missing.length > 1 ? 'them' : 'it'}.`,
      );
    }
  }
  checkUserLimits(context, settings, request, 0);
  context.jobs.checkCapacity();

  const options = resolveGenerationOptions({ ...request.userOptions, kind: request.kind }, settings, {
    limitOwner: request.guildId === null ? 'bot' : 'server',
  });
  const multiple = context.model.sizeMultiple;
  for (const key of ['width', 'height'] as const) {
    if (request.userOptions[key] != null && options[key] % multiple !== 0) {
      throw new UserError(`options.${key}`, `Expected \`${key}\` to be a multiple of ${multiple} for this model, got \`${options[key]}\`.`);
    }
  }
  if (request.kind === 'remix') {
    if (!context.model.supportsImageToImage) throw noVaeEncoder();
    if (!request.source) throw noImageToRemix('There is no picture to remix: attach one, or use this on a message with a picture.');
    if (request.source.size !== undefined && request.source.size > context.config.limits.maxAttachmentBytes) {
      throw new UserError(
        'attachment.tooLarge',
        `That picture is ${byteSize(request.source.size)}; the limit is ${byteSize(context.config.limits.maxAttachmentBytes)}.`,
      );
    }
  }
  return { request, settings, options };
}

/** `access.ageRestricted`: the server (or, in direct messages, the bot's configuration) allows the bot only in age-restricted channels. */
function ageRestrictedChannelRequired(guildId: string | null): UserError {
  return new UserError(
    'access.ageRestricted',
    guildId === null
      ? 'This bot only takes requests in age-restricted server channels, not in direct messages.'
      : 'This server allows image generation only in age-restricted channels.',
  );
}

/**
 * Cooldown and per-user limit, counting the user's queued and running jobs and the places their requests
 * hold (`ownPlaces` of them are the request's own, which must not count against it).
 */
function checkUserLimits(context: BotContext, settings: EffectiveSettings, request: GenerationRequest, ownPlaces: number): void {
  const { guildId, userId } = request;
  const stored = context.store.lastJobStartedAt(guildId, userId);
  const reserved = ownPlaces === 0 ? context.reservations.latestIn(guildId, userId) : undefined;
  const latest = stored === undefined ? reserved : reserved === undefined ? stored : Math.max(stored, reserved);
  checkCooldown(settings, latest, Date.now());
  checkUserQueueLimit(settings, context.jobs.activeJobsOf(userId) + context.reservations.heldBy(userId) - ownPlaces);
}

/**
 * The checks that can change while a remix downloads, made again just before it is queued: today's settings
 * of the server (an admin may have tightened them), the per-user limit and cooldown (the request's own place
 * excluded), and room in the queue.
 */
export function recheckBeforeSubmit(context: BotContext, checked: CheckedRequest): void {
  const settings = settingsFor(context, checked.request.guildId);
  checkUserLimits(context, settings, checked.request, 1);
  context.jobs.checkCapacity();
}

/** Downloads and prepares the picture of a remix (after the interaction was acknowledged). */
export async function prepareSourceImage(context: BotContext, checked: CheckedRequest): Promise<InitImage | undefined> {
  const { request, settings, options } = checked;
  if (request.kind !== 'remix' || !request.source) return undefined;
  const { limits, discord } = context.config;
  const { bytes } = await fetchAttachment(request.source.url, {
    allowedHosts: [...discord.attachmentHosts],
    maxBytes: limits.maxAttachmentBytes,
    timeoutMs: limits.downloadTimeoutMs,
  });
  const explicitSize = request.userOptions.width != null || request.userOptions.height != null;
  return prepareInitImage(bytes, explicitSize ? { width: options.width, height: options.height } : undefined, {
    maxPixels: limits.maxSourcePixels,
    maxOutputPixels: settings.maxPixels,
    maxSide: imageSide.max,
    multipleOf: context.model.sizeMultiple,
  });
}

/**
 * The job a checked request becomes: who asked where, the resolved options, and for a remix the size its
 * prepared picture decided and where that picture came from.
 */
export function jobRequestOf(checked: CheckedRequest, initImage: InitImage | undefined): JobRequest {
  const { request, options, settings } = checked;
  return {
    previewEverySteps: previewEveryStepsFor(settings.previewEverySteps, denoisingSteps(request.kind, options.steps, options.strength)),
    job: {
      kind: request.kind,
      userId: request.userId,
      guildId: request.guildId,
      channelId: request.channelId,
      parentJobId: request.parentJobId ?? null,
      ...(request.operation ? { operation: request.operation } : {}),
      ...options,
      width: initImage?.width ?? options.width,
      height: initImage?.height ?? options.height,
      sourceImageUrl: request.source?.url ?? null,
    },
    initImage,
  };
}
