import { noVaeEncoder, UserError } from '../errors.js';
import { imageSide, type EffectiveSettings } from '../settings/index.js';
import type { JobRecord } from '../store/index.js';
import type { ResultActions } from './buttons.js';
import { settingsFor, type BotContext } from './context.js';

/** How much bigger Upscale makes a picture. */
export const upscaleFactor = 2;

/** Whether Upscale ×2 can be offered under `settings`: it is not turned `off` and the model can draw from a picture. */
export function upscaleAvailable(context: BotContext, settings: EffectiveSettings): boolean {
  return settings.upscale !== 'off' && context.model.supportsImageToImage;
}

/** The buttons a result in `guildId` (`null`: direct messages) gets besides Reroll, Info and Delete. */
export function resultActionsFor(context: BotContext, guildId: string | null): ResultActions {
  return { imageToImage: context.model.supportsImageToImage, upscale: upscaleAvailable(context, settingsFor(context, guildId)) };
}

/**
 * The least number of steps with which img2img at `strength` still runs one denoising step (diffusers runs
 * `int(steps × strength)`): a one-step model's result can still be varied or upscaled.
 */
export function stepsForStrength(steps: number, strength: number): number {
  let needed = steps;
  while (Math.floor(needed * strength) < 1) needed++;
  return needed;
}

/**
 * The refusal when Upscale ×2 cannot be done here and now: the server turned it off, the model cannot draw from
 * a picture, or the larger picture would exceed the server's `maxPixels` or the largest side.
 */
export function upscaleRefusal(
  context: BotContext,
  settings: EffectiveSettings,
  job: Pick<JobRecord, 'width' | 'height'>,
  limitOwner: 'server' | 'bot',
): UserError | undefined {
  if (settings.upscale === 'off') return new UserError('upscale.off', `Upscaling is turned off on this ${limitOwner}.`);
  if (!context.model.supportsImageToImage) return noVaeEncoder();
  const width = job.width * upscaleFactor;
  const height = job.height * upscaleFactor;
  if (width > imageSide.max || height > imageSide.max) {
    return new UserError(
      'upscale.tooLarge',
      `Upscaling this ${job.width}×${job.height} picture ×${upscaleFactor} would make it ${width}×${height}; ` +
        `the largest side I draw is ${imageSide.max} pixels.`,
    );
  }
  if (width * height > settings.maxPixels) {
    return new UserError(
      'upscale.tooLarge',
      `Upscaling this ${job.width}×${job.height} picture ×${upscaleFactor} would make it ${width}×${height} = ` +
        `${(width * height).toLocaleString('en-US')} pixels, more than this ${limitOwner}'s limit of ` +
        `${settings.maxPixels.toLocaleString('en-US')} (\`maxPixels\`${limitOwner === 'server' ? ', which admins set with /settings' : ''}).`,
    );
  }
  return undefined;
}
