import type BetterSqlite3 from 'better-sqlite3';

/**
 * One schema step. `version` n brings a database from `PRAGMA user_version` n − 1 to n. Steps must be
 * additive (new tables, indexes, nullable or defaulted columns) so that an older latentcord can still use
 * a database a newer one has upgraded.
 */
export interface Migration {
  /** The `user_version` after this step; the list counts 1, 2, 3, … */
  readonly version: number;
  /** What it does, for logs. */
  readonly description: string;
  /** SQL run in one transaction together with the version bump. */
  readonly sql: string;
}

/** The schema, step by step. Append; never edit a released step. */
export const migrations: readonly Migration[] = Object.freeze([
  {
    version: 1,
    description: 'guild settings, jobs, command deployments',
    sql: `
      CREATE TABLE guild_settings (
        guild_id   TEXT    NOT NULL,
        key        TEXT    NOT NULL,
        value      TEXT    NOT NULL,
        updated_by TEXT    NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (guild_id, key)
      ) WITHOUT ROWID;

      CREATE TABLE jobs (
        id                TEXT    PRIMARY KEY,
        kind              TEXT    NOT NULL CHECK (kind IN ('imagine', 'remix')),
        status            TEXT    NOT NULL,
        parent_job_id     TEXT    REFERENCES jobs (id) ON DELETE SET NULL,
        guild_id          TEXT,
        channel_id        TEXT    NOT NULL,
        user_id           TEXT    NOT NULL,
        prompt            TEXT    NOT NULL,
        negative_prompt   TEXT    NOT NULL,
        seed              TEXT    NOT NULL,
        steps             INTEGER NOT NULL,
        guidance          REAL    NOT NULL,
        width             INTEGER NOT NULL,
        height            INTEGER NOT NULL,
        scheduler         TEXT    NOT NULL,
        count             INTEGER NOT NULL,
        strength          REAL    NOT NULL,
        source_image_url  TEXT,
        created_at        INTEGER NOT NULL,
        started_at        INTEGER,
        finished_at       INTEGER,
        error_identifier  TEXT,
        result_message_id TEXT,
        result_channel_id TEXT,
        attachment_urls   TEXT    NOT NULL DEFAULT '[]',
        stage_durations   TEXT    NOT NULL DEFAULT '{}'
      );
      CREATE INDEX jobs_by_user ON jobs (user_id, guild_id, created_at);
      CREATE INDEX jobs_by_status ON jobs (status);
      CREATE INDEX jobs_by_finished_at ON jobs (finished_at);
      CREATE INDEX jobs_by_parent ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;
      CREATE INDEX jobs_by_result_message ON jobs (result_message_id) WHERE result_message_id IS NOT NULL;

      CREATE TABLE command_deployments (
        scope       TEXT    PRIMARY KEY,
        hash        TEXT    NOT NULL,
        deployed_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'jobs remember their status message, so a restart can mark it interrupted',
    sql: `ALTER TABLE jobs ADD COLUMN status_message_id TEXT;`,
  },
  {
    version: 3,
    // Jobs stored before prompts were read the AUTOMATIC1111 way were drawn from the literal text cut at 75
    // tokens: exactly emphasis 'off' with a 75-token limit, so a Reroll of one keeps reading it that way.
    description: 'jobs remember how their prompts were read (emphasis mode, token limit)',
    sql: `
      ALTER TABLE jobs ADD COLUMN emphasis TEXT NOT NULL DEFAULT 'off';
      ALTER TABLE jobs ADD COLUMN max_prompt_tokens INTEGER NOT NULL DEFAULT 75;
    `,
  },
  {
    version: 4,
    // A Vary or Upscale job is a remix for every older version (which reads it as one); the index serves
    // /history, which pages through one person's delivered pictures in one place, newest first.
    description: 'jobs remember the button they came from (Vary, Upscale); /history index',
    sql: `
      ALTER TABLE jobs ADD COLUMN operation TEXT;
      CREATE INDEX jobs_history ON jobs (user_id, guild_id, status, created_at);
    `,
  },
]);

/** What {@link runMigrations} did. */
export interface MigrationResult {
  /** `user_version` before. */
  readonly from: number;
  /** `user_version` after. */
  readonly to: number;
  /** True when the database is newer than the newest step known here (left untouched). */
  readonly newerThanKnown: boolean;
}

/**
 * Brings the database up to the last step of `steps`. Each step runs in its own IMMEDIATE transaction
 * (so two processes starting at once cannot both apply it) together with its `user_version` bump; a
 * failing step is rolled back and rethrown, leaving the database at the previous version.
 */
export function runMigrations(db: BetterSqlite3.Database, steps: readonly Migration[]): MigrationResult {
  steps.forEach((step, index) => {
    if (step.version !== index + 1) throw new Error(`migration #${index + 1} has version ${step.version}; versions must count 1, 2, 3, …`);
  });
  const latest = steps.length;
  const readVersion = (): number => db.pragma('user_version', { simple: true }) as number;
  const from = readVersion();
  if (from > latest) return { from, to: from, newerThanKnown: true };
  for (const step of steps.slice(from)) {
    db.transaction(() => {
      // Another process may have applied it while we waited for the lock.
      if (readVersion() >= step.version) return;
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    }).immediate();
  }
  return { from, to: readVersion(), newerThanKnown: false };
}
