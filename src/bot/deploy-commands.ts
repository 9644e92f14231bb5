import { createHash } from 'node:crypto';
import { REST, Routes, type RESTGetAPIApplicationCommandsResult, type RESTPostAPIApplicationCommandsJSONBody } from 'discord.js';
import type { Logger } from '../logging/logger.js';
import type { Store } from '../store/index.js';

/** Where commands are registered: everywhere, or one server (instant, handy while testing). */
export type DeployScope = { readonly kind: 'global' } | { readonly kind: 'guild'; readonly guildId: string };

/** What a deployment did. */
export interface DeployResult {
  readonly applicationId: string;
  readonly scope: string;
  /** False when the definitions were unchanged since the last deployment and no call was made. */
  readonly deployed: boolean;
  readonly commandCount: number;
}

/** A stable hash of command definitions (key order does not matter). */
export function commandsHash(commands: readonly RESTPostAPIApplicationCommandsJSONBody[]): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, canonical(v)]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(commands)))
    .digest('hex');
}

/**
 * Registers the commands with one bulk overwrite, unless the same definitions were already registered for
 * this application and scope (Discord allows 200 command creations a day per server; an unchanged deploy
 * costs nothing). The hash is kept in the database.
 */
export async function deployCommands(options: {
  readonly token: string;
  readonly apiUrl: string;
  readonly store: Store;
  readonly commands: readonly RESTPostAPIApplicationCommandsJSONBody[];
  readonly scope: DeployScope;
  readonly force?: boolean;
  readonly logger?: Logger;
}): Promise<DeployResult> {
  const rest = new REST({ api: options.apiUrl }).setToken(options.token);
  const application = (await rest.get(Routes.currentApplication())) as { id: string };
  const scopeKey = options.scope.kind === 'global' ? `global:${application.id}` : `guild:${application.id}:${options.scope.guildId}`;
  const hash = commandsHash(options.commands);
  if (!options.force && options.store.getCommandDeploymentHash(scopeKey) === hash) {
    options.logger?.info({ scope: scopeKey }, 'commands unchanged; not deploying');
    return { applicationId: application.id, scope: scopeKey, deployed: false, commandCount: options.commands.length };
  }
  const route =
    options.scope.kind === 'global'
      ? Routes.applicationCommands(application.id)
      : Routes.applicationGuildCommands(application.id, options.scope.guildId);
  const result = (await rest.put(route, { body: options.commands })) as RESTGetAPIApplicationCommandsResult;
  options.store.setCommandDeploymentHash(scopeKey, hash);
  options.logger?.info({ scope: scopeKey, commands: result.length }, 'commands deployed');
  return { applicationId: application.id, scope: scopeKey, deployed: true, commandCount: result.length };
}
