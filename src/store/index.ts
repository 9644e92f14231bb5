/** Persistent state in SQLite (the only importer of better-sqlite3): guild settings, jobs, command deployments. */
export { databaseFileName, openStore, type OpenStoreOptions, type Store } from './open-store.js';
export type { GuildSettingEntry } from './guild-settings-repository.js';
export { interruptedErrorIdentifier, type JobHistoryPage } from './jobs-repository.js';
export {
  finalJobStatuses,
  jobOperations,
  jobStatuses,
  type JobKind,
  type JobOperation,
  type JobParameters,
  type JobSpec,
  type JobPatch,
  type JobRecord,
  type JobStatus,
  type NewJob,
} from './job-types.js';
export { migrations, type Migration } from './migrations.js';
export type { StoreLogger } from './store-logger.js';
