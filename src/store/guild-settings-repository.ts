import type BetterSqlite3 from 'better-sqlite3';
import {
  checkSettingValue,
  isSettingKey,
  settingDefinition,
  type GuildSettingOverrides,
  type GuildSettings,
  type SettingKey,
} from '../settings/index.js';
import type { StoreLogger } from './store-logger.js';

/** One stored override with who set it and when. */
export interface GuildSettingEntry<K extends SettingKey = SettingKey> {
  /** Setting name. */
  readonly key: K;
  /** Its value. */
  readonly value: GuildSettings[K];
  /** User id of the admin who set it. */
  readonly updatedBy: string;
  /** When, in ms since the epoch. */
  readonly updatedAt: number;
}

interface SettingRow {
  key: string;
  value: string;
  updated_by: string;
  updated_at: number;
}

/** Per-server setting overrides, stored as JSON values, one row per server and key. */
export class GuildSettingsRepository {
  readonly #select: BetterSqlite3.Statement<[string], SettingRow>;
  readonly #upsert: BetterSqlite3.Statement<[string, string, string, string, number]>;
  readonly #deleteAll: BetterSqlite3.Statement<[string]>;
  readonly #deleteOne: BetterSqlite3.Statement<[string, string]>;
  readonly #logger: StoreLogger;
  readonly #now: () => number;
  /** `guildId\0key` pairs already warned about, so a stale row is reported once per process. */
  readonly #warned = new Set<string>();

  constructor(db: BetterSqlite3.Database, logger: StoreLogger, now: () => number) {
    this.#select = db.prepare<[string], SettingRow>(
      'SELECT key, value, updated_by, updated_at FROM guild_settings WHERE guild_id = ? ORDER BY key',
    );
    this.#upsert = db.prepare(
      `INSERT INTO guild_settings (guild_id, key, value, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (guild_id, key) DO UPDATE SET
         value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    );
    this.#deleteAll = db.prepare('DELETE FROM guild_settings WHERE guild_id = ?');
    this.#deleteOne = db.prepare('DELETE FROM guild_settings WHERE guild_id = ? AND key = ?');
    this.#logger = logger;
    this.#now = now;
  }

  /**
   * The valid stored overrides of a server with their authors. Rows with an unknown key (left by a newer
   * version), a configuration-only key or a value that no longer validates are skipped with one warning.
   */
  entries(guildId: string): GuildSettingEntry[] {
    const entries: GuildSettingEntry[] = [];
    for (const row of this.#select.all(guildId)) {
      const problem = this.#problem(row);
      if (typeof problem === 'string') {
        const seen = `${guildId}\0${row.key}`;
        if (!this.#warned.has(seen)) {
          this.#warned.add(seen);
          this.#logger.warn({ guildId, key: row.key }, `ignoring stored guild setting: ${problem}`);
        }
        continue;
      }
      entries.push({ key: row.key as SettingKey, value: problem.value, updatedBy: row.updated_by, updatedAt: row.updated_at });
    }
    return entries;
  }

  #problem(row: SettingRow): string | { value: GuildSettings[SettingKey] } {
    if (!isSettingKey(row.key)) return `unknown setting \`${row.key}\` (written by another version?)`;
    if (settingDefinition(row.key).configOnly === true) return `\`${row.key}\` can only be set in the configuration file`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.value);
    } catch {
      return `value of \`${row.key}\` is not JSON`;
    }
    const checked = checkSettingValue(row.key, parsed);
    return checked.ok ? { value: checked.value } : `value of \`${row.key}\` is not ${checked.expected}`;
  }

  /** The valid stored overrides of a server, as a frozen partial settings object. */
  get(guildId: string): GuildSettingOverrides {
    const overrides: Record<string, unknown> = {};
    for (const entry of this.entries(guildId)) overrides[entry.key] = entry.value;
    return Object.freeze(overrides) as GuildSettingOverrides;
  }

  /**
   * Stores one override. The value must already be valid (see `validateGuildSettings`); anything else is
   * a programming error and throws a TypeError.
   */
  set<K extends SettingKey>(guildId: string, key: K, value: GuildSettings[K], byUserId: string): void {
    if (!isSettingKey(key) || settingDefinition(key).configOnly === true) throw new TypeError(`not a per-server setting: ${String(key)}`);
    const checked = checkSettingValue(key, value);
    if (!checked.ok) throw new TypeError(`invalid value for ${key}: expected ${checked.expected}, got ${JSON.stringify(value)}`);
    this.#upsert.run(guildId, key, JSON.stringify(checked.value), byUserId, this.#now());
  }

  /** Removes one override, or all of a server's when `key` is omitted; returns how many were removed. */
  reset(guildId: string, key?: SettingKey): number {
    return key === undefined ? this.#deleteAll.run(guildId).changes : this.#deleteOne.run(guildId, key).changes;
  }
}
