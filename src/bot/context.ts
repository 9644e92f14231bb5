import type { Client } from 'discord.js';
import type { PipelineView } from '../backends/pipeline-backend.js';
import type { Config } from '../config/index.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { Logger } from '../logging/logger.js';
import { effectiveGuildSettings, type EffectiveSettings } from '../settings/index.js';
import type { Store } from '../store/index.js';
import type { RequestReservations, WorkSlots } from './request-reservations.js';

/** What the loaded model can do, as far as commands need to know. */
export interface ModelCapabilities {
  readonly name: string;
  /** Image sides must be multiples of this. */
  readonly sizeMultiple: number;
  readonly supportsImageToImage: boolean;
  /** Whether every picture is checked by the model folder's safety checker (the NSFW settings apply). */
  readonly safetyChecker: boolean;
}

/** Everything a command or component handler may use. Passed explicitly; there are no globals. */
export interface BotContext {
  readonly client: Client;
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly jobs: JobRunner;
  readonly model: ModelCapabilities;
  /** The defaults in force before any server override: the configuration's, adjusted to the model (`modelDefaults`). */
  readonly defaults: EffectiveSettings;
  /** Places of checked requests that are not queued yet (remixes while their picture downloads). */
  readonly reservations: RequestReservations;
  /** Remix pictures downloaded and decoded at once (`limits.maxConcurrentDownloads`). */
  readonly downloads: WorkSlots;
  /** The pipelines jobs run on (local processes or remote workers), for admins' `/queue`. */
  readonly pipelines?: () => readonly PipelineView[];
}

/**
 * The settings in force for a server: its stored overrides over the configuration's defaults. Direct
 * messages use the configuration's defaults. Stored values that no longer validate are skipped and logged.
 */
export function settingsFor(context: BotContext, guildId: string | null): EffectiveSettings {
  const defaults = context.defaults;
  if (guildId === null) return defaults;
  const { settings, problems } = effectiveGuildSettings(context.store.getGuildSettings(guildId), defaults);
  for (const problem of problems) context.logger.warn({ guild: guildId, key: problem.key }, problem.message);
  return settings;
}
