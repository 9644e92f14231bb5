import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { diskFull, UserError } from '../errors.js';
import type { GuildSettingOverrides, GuildSettings, SettingKey } from '../settings/index.js';
import { CommandDeploymentsRepository } from './command-deployments-repository.js';
import { GuildSettingsRepository, type GuildSettingEntry } from './guild-settings-repository.js';
import type { JobPatch, JobRecord, JobStatus, NewJob } from './job-types.js';
import { JobsRepository, type JobHistoryPage } from './jobs-repository.js';
import { migrations as defaultMigrations, runMigrations, type Migration } from './migrations.js';
import { processWarningLogger, type StoreLogger } from './store-logger.js';

/** File name of the database inside the data folder. */
export const databaseFileName = 'latentcord.sqlite';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Where warnings and migration notes go; default: process warnings. */
  readonly logger?: StoreLogger;
  /** Clock in ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** How long a statement waits for another process's lock, in ms; default 5000. */
  readonly busyTimeoutMs?: number;
  /** Schema steps; default the real ones. For tests of the migration mechanism. */
  readonly migrations?: readonly Migration[];
}

/**
 * The bot's persistent state in one SQLite file. Synchronous: every call is one small indexed statement
 * or a short transaction. Times are ms since the epoch.
 */
export interface Store {
  /** Absolute path of the database file. */
  readonly path: string;
  /** Schema version (`PRAGMA user_version`) after opening. */
  readonly schemaVersion: number;

  /** A server's valid stored overrides (stale or unknown rows are skipped with a warning). */
  getGuildSettings(guildId: string): GuildSettingOverrides;
  /** A server's valid stored overrides with who set each and when (for `/settings show`). */
  getGuildSettingEntries(guildId: string): GuildSettingEntry[];
  /** Stores one override; the value must be valid already (TypeError otherwise). */
  setGuildSetting<K extends SettingKey>(guildId: string, key: K, value: GuildSettings[K], byUserId: string): void;
  /** Removes one override, or all of the server's; returns how many were removed. */
  resetGuildSettings(guildId: string, key?: SettingKey): number;

  /** Stores a new job and returns it. A full disk is the `store.full` UserError (as for every write). */
  createJob(job: NewJob): JobRecord;
  /** The job with this id. */
  getJob(id: string): JobRecord | undefined;
  /** The job whose result is in this Discord message (for message context-menu commands). */
  findJobByResultMessage(messageId: string): JobRecord | undefined;
  /** Changes a job atomically; `undefined` if there is no such job. */
  updateJob(id: string, patch: JobPatch): JobRecord | undefined;
  /**
   * At start-up: marks jobs left `queued`/`running` by a previous process `interrupted` and returns them;
   * jobs in `keep` (still running on remote workers) are left as they are.
   */
  markUnfinishedJobsInterrupted(keep?: ReadonlySet<string>): JobRecord[];
  /**
   * When the user's most recent job in this server (`null`: direct messages) was created (submitted), for
   * cooldowns; `undefined` if never.
   */
  lastJobStartedAt(guildId: string | null, userId: string): number | undefined;
  /** Stored jobs per status. */
  countJobsByStatus(): Record<JobStatus, number>;
  /**
   * One page of a person's delivered jobs in one server (`null`: direct messages), newest first, with the
   * total (for `/history`).
   */
  jobHistory(userId: string, guildId: string | null, limit: number, offset: number): JobHistoryPage;
  /** Deletes a person's finished jobs in one server (`null`: direct messages); returns how many. */
  clearJobHistory(userId: string, guildId: string | null): number;
  /**
   * Deletes finished jobs that ended before `finishedBefore`, oldest first and at most `limit` (default: all);
   * returns how many. For the retention of job records (`jobs.retentionDays`).
   */
  pruneJobs(finishedBefore: number, limit?: number): number;

  /** Hash of the command definitions last deployed to `scope` (`global` or a guild id). */
  getCommandDeploymentHash(scope: string): string | undefined;
  /** Records a deployment. */
  setCommandDeploymentHash(scope: string, hash: string): void;

  /** Closes the database (checkpointing the WAL). Safe to call more than once. */
  close(): void;
}

function explain(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'SQLITE_NOTADB':
    case 'SQLITE_CORRUPT':
      return (
        `${message} (${code}). The file is damaged or not a SQLite database: ` +
        'move it away to start with an empty one, or restore a backup'
      );
    case 'SQLITE_CANTOPEN':
      return `${message} (${code}). Check that the path is a file (not a folder) in a folder this process may write to`;
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_IOERR':
    case 'SQLITE_FULL':
      return `${message} (${code}). Check permissions and free space`;
    default:
      return typeof code === 'string' ? `${message} (${code})` : message;
  }
}

/**
 * Opens (creating if needed) `<dataDir>/latentcord.sqlite`: creates the folder, sets WAL journaling,
 * foreign keys, a busy timeout and `synchronous = NORMAL`, checks the file, and applies pending
 * migrations. A data folder or database that cannot be used gives a {@link UserError} (`store.open`) whose
 * message names the path and what to do.
 */
export function openStore(dataDir: string, options: OpenStoreOptions = {}): Store {
  const logger = options.logger ?? processWarningLogger;
  const now = options.now ?? Date.now;
  const folder = resolve(dataDir);
  const path = join(folder, databaseFileName);

  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way (it must be a folder)' : String((error as Error).message);
    throw new UserError('store.open', `Cannot create the data folder ${folder}: ${reason}.`, { cause: error });
  }

  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`integrity check failed: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    const migrated = runMigrations(db, options.migrations ?? defaultMigrations);
    if (migrated.newerThanKnown) {
      logger.warn({ path, schemaVersion: migrated.from }, 'database schema is newer than this version knows; continuing without migrating');
    } else if (migrated.to !== migrated.from) {
      logger.info({ path, from: migrated.from, to: migrated.to }, 'database schema migrated');
    }
  } catch (error) {
    db?.close();
    throw new UserError('store.open', `Cannot open the database ${path}: ${explain(error)}.`, { cause: error });
  }
  return createStore(db, path, logger, now);
}

/**
 * Runs a write; a full disk (SQLite's `SQLITE_FULL`: the database or its write-ahead log could not grow) becomes
 * the `store.full` UserError, which callers tell the requester about and log for the owner. SQLite rolls the
 * statement back, so the database stays consistent and later writes work once there is space again.
 */
function writing<T>(write: () => T): T {
  try {
    return write();
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_FULL') throw diskFull(error);
    throw error;
  }
}

function createStore(db: Database.Database, path: string, logger: StoreLogger, now: () => number): Store {
  const settings = new GuildSettingsRepository(db, logger, now);
  const jobs = new JobsRepository(db, now);
  const deployments = new CommandDeploymentsRepository(db, now);
  const schemaVersion = db.pragma('user_version', { simple: true }) as number;
  return {
    path,
    schemaVersion,
    getGuildSettings: (guildId) => settings.get(guildId),
    getGuildSettingEntries: (guildId) => settings.entries(guildId),
    setGuildSetting: (guildId, key, value, byUserId) => writing(() => settings.set(guildId, key, value, byUserId)),
    resetGuildSettings: (guildId, key) => writing(() => settings.reset(guildId, key)),
    createJob: (job) => writing(() => jobs.create(job)),
    getJob: (id) => jobs.get(id),
    findJobByResultMessage: (messageId) => jobs.getByResultMessage(messageId),
    updateJob: (id, patch) => writing(() => jobs.update(id, patch)),
    markUnfinishedJobsInterrupted: (keep) => jobs.markUnfinishedInterrupted(keep),
    lastJobStartedAt: (guildId, userId) => jobs.lastCreatedAt(guildId, userId),
    countJobsByStatus: () => jobs.countByStatus(),
    pruneJobs: (finishedBefore, limit) => writing(() => jobs.prune(finishedBefore, limit)),
    jobHistory: (userId, guildId, limit, offset) => jobs.history(userId, guildId, limit, offset),
    clearJobHistory: (userId, guildId) => writing(() => jobs.clearHistory(userId, guildId)),
    getCommandDeploymentHash: (scope) => deployments.get(scope),
    setCommandDeploymentHash: (scope, hash) => writing(() => deployments.set(scope, hash)),
    close: () => {
      if (db.open) db.close();
    },
  };
}
