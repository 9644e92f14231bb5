import type BetterSqlite3 from 'better-sqlite3';

/** Hash of the slash-command definitions last deployed per scope, to skip identical re-deploys. */
export class CommandDeploymentsRepository {
  readonly #select: BetterSqlite3.Statement<[string], { hash: string }>;
  readonly #upsert: BetterSqlite3.Statement<[string, string, number]>;
  readonly #now: () => number;

  constructor(db: BetterSqlite3.Database, now: () => number) {
    this.#select = db.prepare('SELECT hash FROM command_deployments WHERE scope = ?');
    this.#upsert = db.prepare(
      `INSERT INTO command_deployments (scope, hash, deployed_at) VALUES (?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET hash = excluded.hash, deployed_at = excluded.deployed_at`,
    );
    this.#now = now;
  }

  /** The hash stored for `scope` (`global` or a guild id), if any. */
  get(scope: string): string | undefined {
    return this.#select.get(scope)?.hash;
  }

  /** Records that the definitions with `hash` are now deployed to `scope`. */
  set(scope: string, hash: string): void {
    if (scope === '' || hash === '') throw new TypeError('command deployment scope and hash must be non-empty');
    this.#upsert.run(scope, hash, this.#now());
  }
}
