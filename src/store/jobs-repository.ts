import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { MAX_SEED } from '../random/index.js';
import { emphasisNames } from '../settings/index.js';
import { finalJobStatuses, jobOperations, jobStatuses, type JobPatch, type JobRecord, type JobStatus, type NewJob } from './job-types.js';

/** Every column of `jobs` and the record field it holds: the one list the SQL and the row mapping come from. */
const columnOf = {
  id: 'id',
  kind: 'kind',
  status: 'status',
  parentJobId: 'parent_job_id',
  guildId: 'guild_id',
  channelId: 'channel_id',
  userId: 'user_id',
  operation: 'operation',
  prompt: 'prompt',
  negativePrompt: 'negative_prompt',
  seed: 'seed',
  steps: 'steps',
  guidance: 'guidance',
  width: 'width',
  height: 'height',
  scheduler: 'scheduler',
  count: 'count',
  strength: 'strength',
  emphasis: 'emphasis',
  maxPromptTokens: 'max_prompt_tokens',
  sourceImageUrl: 'source_image_url',
  createdAt: 'created_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  errorIdentifier: 'error_identifier',
  statusMessageId: 'status_message_id',
  resultMessageId: 'result_message_id',
  resultChannelId: 'result_channel_id',
  attachmentUrls: 'attachment_urls',
  stageDurations: 'stage_durations',
} as const satisfies Record<keyof JobRecord, string>;

/** Fields stored as JSON text. */
type JsonField = 'attachmentUrls' | 'stageDurations';

/** A row as SQLite holds it. */
type JobRow = { [K in keyof JobRecord as (typeof columnOf)[K]]: K extends JsonField ? string : JobRecord[K] };

/** The fields {@link JobsRepository.update} may change; the rest is fixed when a job is created. */
const mutableFields = [
  'status',
  'startedAt',
  'finishedAt',
  'errorIdentifier',
  'statusMessageId',
  'resultMessageId',
  'resultChannelId',
  'attachmentUrls',
  'stageDurations',
] as const satisfies readonly (keyof JobRecord & keyof JobPatch)[];

const fields = Object.keys(columnOf) as (keyof JobRecord)[];
const columns = fields.map((field) => columnOf[field]).join(', ');
const assignments = mutableFields.map((field) => `${columnOf[field]} = @${columnOf[field]}`).join(', ');

const unfinished = "('queued', 'running')";

/** The error identifier given to jobs that were queued or running when the process stopped. */
export const interruptedErrorIdentifier = 'job.interrupted';

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toRecord(row: JobRow): JobRecord {
  const record: Record<string, unknown> = {};
  for (const field of fields) record[field] = row[columnOf[field]];
  record['attachmentUrls'] = Object.freeze(parseJson<string[]>(row.attachment_urls, []));
  record['stageDurations'] = Object.freeze(parseJson<Record<string, number>>(row.stage_durations, {}));
  return Object.freeze(record) as unknown as JobRecord;
}

function toRow(record: JobRecord): JobRow {
  const row: Record<string, unknown> = {};
  for (const field of fields) row[columnOf[field]] = record[field];
  row['attachment_urls'] = JSON.stringify([...record.attachmentUrls]);
  row['stage_durations'] = JSON.stringify(record.stageDurations);
  return row as JobRow;
}

function requireText(name: string, value: unknown, maxLength = Number.POSITIVE_INFINITY): void {
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw new TypeError(
      `job ${name} must be a non-empty string${Number.isFinite(maxLength) ? ` of at most ${maxLength} characters` : ''}, ` +
        `got ${JSON.stringify(value)}`,
    );
  }
}

function requireStatus(status: unknown): asserts status is JobStatus {
  if (!jobStatuses.includes(status as JobStatus)) throw new TypeError(`unknown job status ${JSON.stringify(status)}`);
}

function checkNewJob(job: NewJob, id: string): void {
  requireText('id', id, 64);
  if (job.kind !== 'imagine' && job.kind !== 'remix')
    throw new TypeError(`job kind must be imagine or remix, got ${JSON.stringify(job.kind)}`);
  requireText('channelId', job.channelId);
  requireText('userId', job.userId);
  if (job.guildId !== null) requireText('guildId', job.guildId);
  if (typeof job.prompt !== 'string' || typeof job.negativePrompt !== 'string')
    throw new TypeError('job prompt and negativePrompt must be strings');
  if (typeof job.seed !== 'string' || !/^(?:0|[1-9][0-9]{0,19})$/u.test(job.seed) || BigInt(job.seed) > MAX_SEED) {
    throw new TypeError(`job seed must be decimal text from 0 to ${MAX_SEED}, got ${JSON.stringify(job.seed)}`);
  }
  if (!emphasisNames.includes(job.emphasis)) {
    throw new TypeError(`job emphasis must be one of ${emphasisNames.join(', ')}, got ${JSON.stringify(job.emphasis)}`);
  }
  for (const name of ['steps', 'width', 'height', 'count', 'maxPromptTokens'] as const) {
    if (!Number.isSafeInteger(job[name])) throw new TypeError(`job ${name} must be an integer, got ${JSON.stringify(job[name])}`);
  }
  for (const name of ['guidance', 'strength'] as const) {
    if (!Number.isFinite(job[name])) throw new TypeError(`job ${name} must be a finite number, got ${JSON.stringify(job[name])}`);
  }
  requireText('scheduler', job.scheduler);
  if (job.operation != null) {
    if (!jobOperations.includes(job.operation)) throw new TypeError(`unknown job operation ${JSON.stringify(job.operation)}`);
    if (job.kind !== 'remix') throw new TypeError(`a job with operation ${job.operation} is a remix, not ${job.kind}`);
  }
  if (job.status !== undefined && job.status !== 'queued' && job.status !== 'running')
    throw new TypeError(`a new job is queued or running, not ${job.status}`);
}

/** One page of someone's delivered jobs, newest first, and how many there are in all. */
export interface JobHistoryPage {
  readonly jobs: readonly JobRecord[];
  readonly total: number;
}

/** Job records: what ran, with which parameters, and where its result message is. */
export class JobsRepository {
  readonly #insert: BetterSqlite3.Statement<[JobRow]>;
  readonly #selectById: BetterSqlite3.Statement<[string], JobRow>;
  readonly #selectByResultMessage: BetterSqlite3.Statement<[string], JobRow>;
  readonly #updateMutable: BetterSqlite3.Statement<[JobRow]>;
  readonly #selectUnfinished: BetterSqlite3.Statement<[], JobRow>;
  readonly #markInterrupted: BetterSqlite3.Statement<[number, string]>;
  readonly #lastCreated: BetterSqlite3.Statement<[string, string | null], { at: number | null }>;
  readonly #countByStatus: BetterSqlite3.Statement<[], { status: string; n: number }>;
  readonly #prune: BetterSqlite3.Statement<[number, number]>;
  readonly #selectHistory: BetterSqlite3.Statement<[string, string | null, number, number], JobRow>;
  readonly #countHistory: BetterSqlite3.Statement<[string, string | null], { n: number }>;
  readonly #deleteHistory: BetterSqlite3.Statement<[string, string | null]>;
  readonly #update: (id: string, patch: JobPatch) => JobRecord | undefined;
  readonly #interruptAll: (keep?: ReadonlySet<string>) => JobRecord[];
  readonly #now: () => number;

  constructor(db: BetterSqlite3.Database, now: () => number) {
    this.#now = now;
    this.#insert = db.prepare(`INSERT INTO jobs (${columns}) VALUES (${fields.map((field) => `@${columnOf[field]}`).join(', ')})`);
    this.#selectById = db.prepare(`SELECT ${columns} FROM jobs WHERE id = ?`);
    this.#selectByResultMessage = db.prepare(`SELECT ${columns} FROM jobs WHERE result_message_id = ? ORDER BY created_at DESC LIMIT 1`);
    this.#updateMutable = db.prepare(`UPDATE jobs SET ${assignments} WHERE id = @id`);
    this.#selectUnfinished = db.prepare(`SELECT ${columns} FROM jobs WHERE status IN ${unfinished} ORDER BY created_at, id`);
    this.#markInterrupted = db.prepare(`UPDATE jobs SET status = 'interrupted', finished_at = ?,
      error_identifier = COALESCE(error_identifier, ?) WHERE status IN ${unfinished}`);
    this.#lastCreated = db.prepare('SELECT MAX(created_at) AS at FROM jobs WHERE user_id = ? AND guild_id IS ?');
    this.#countByStatus = db.prepare('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status');
    // Every final status sets finished_at, so the index on it finds the oldest finished jobs without a scan.
    this.#prune = db.prepare(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at < ? AND status NOT IN ${unfinished}
      ORDER BY finished_at LIMIT ?)`);

    // /history: delivered jobs of one person in one place (a server, or direct messages: guild_id IS NULL).
    const history = `FROM jobs WHERE user_id = ? AND guild_id IS ? AND status = 'succeeded'`;
    this.#selectHistory = db.prepare(`SELECT ${columns} ${history} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`);
    this.#countHistory = db.prepare(`SELECT COUNT(*) AS n ${history}`);
    this.#deleteHistory = db.prepare(`DELETE FROM jobs WHERE user_id = ? AND guild_id IS ? AND status NOT IN ${unfinished}`);

    this.#update = db.transaction((id: string, patch: JobPatch) => {
      const row = this.#selectById.get(id);
      if (row === undefined) return undefined;
      const current = toRecord(row);
      const next: Record<string, unknown> = { ...current };
      for (const field of mutableFields) if (patch[field] !== undefined) next[field] = patch[field];
      if (patch.status !== undefined) {
        requireStatus(patch.status);
        const now = this.#now();
        if (patch.status === 'running' && current.startedAt === null && patch.startedAt === undefined) next['startedAt'] = now;
        if (finalJobStatuses.includes(patch.status) && current.finishedAt === null && patch.finishedAt === undefined)
          next['finishedAt'] = now;
      }
      if (patch.stageDurations !== undefined) next['stageDurations'] = { ...current.stageDurations, ...patch.stageDurations };
      this.#updateMutable.run(toRow(next as unknown as JobRecord));
      return toRecord(this.#selectById.get(id)!);
    });

    const markOneInterrupted = db.prepare(`UPDATE jobs SET status = 'interrupted', finished_at = ?,
      error_identifier = COALESCE(error_identifier, ?) WHERE id = ? AND status IN ${unfinished}`);
    this.#interruptAll = db.transaction((keep?: ReadonlySet<string>) => {
      const rows = this.#selectUnfinished.all();
      if (rows.length === 0) return [];
      if (keep === undefined || keep.size === 0) {
        this.#markInterrupted.run(this.#now(), interruptedErrorIdentifier);
        return rows.map((row) => toRecord(this.#selectById.get(row.id)!));
      }
      // Jobs still running elsewhere (remote workers) are kept for the new process to follow.
      const now = this.#now();
      const marked = rows.filter((row) => !keep.has(row.id));
      for (const row of marked) markOneInterrupted.run(now, interruptedErrorIdentifier, row.id);
      return marked.map((row) => toRecord(this.#selectById.get(row.id)!));
    });
  }

  /** Stores a new job (status `queued` unless given) and returns it as stored. */
  create(job: NewJob): JobRecord {
    const id = job.id ?? randomUUID();
    checkNewJob(job, id);
    const status = job.status ?? 'queued';
    const createdAt = job.createdAt ?? this.#now();
    this.#insert.run(
      toRow({
        ...job,
        id,
        status,
        operation: job.operation ?? null,
        parentJobId: job.parentJobId ?? null,
        createdAt,
        startedAt: status === 'running' ? createdAt : null,
        finishedAt: null,
        errorIdentifier: null,
        statusMessageId: null,
        resultMessageId: null,
        resultChannelId: null,
        attachmentUrls: [],
        stageDurations: {},
      }),
    );
    return toRecord(this.#selectById.get(id)!);
  }

  /** The job with this id, if stored. */
  get(id: string): JobRecord | undefined {
    const row = this.#selectById.get(id);
    return row === undefined ? undefined : toRecord(row);
  }

  /** The (latest) job whose result is shown in this message, if any. */
  getByResultMessage(messageId: string): JobRecord | undefined {
    const row = this.#selectByResultMessage.get(messageId);
    return row === undefined ? undefined : toRecord(row);
  }

  /** Applies a {@link JobPatch} atomically; returns the updated job, or `undefined` if there is none with this id. */
  update(id: string, patch: JobPatch): JobRecord | undefined {
    return this.#update(id, patch);
  }

  /**
   * Marks every `queued` or `running` job `interrupted` (finished now, error `job.interrupted`) and returns
   * them as updated, oldest first. Call once at start-up, before the queue accepts work.
   */
  markUnfinishedInterrupted(keep?: ReadonlySet<string>): JobRecord[] {
    return this.#interruptAll(keep);
  }

  /** Creation time (ms) of the user's most recent job in this server (`null`: direct messages), if any. */
  lastCreatedAt(guildId: string | null, userId: string): number | undefined {
    return this.#lastCreated.get(userId, guildId)?.at ?? undefined;
  }

  /** How many jobs are stored per status (every status present, 0 when none). */
  countByStatus(): Record<JobStatus, number> {
    const counts = Object.fromEntries(jobStatuses.map((status) => [status, 0])) as Record<JobStatus, number>;
    for (const { status, n } of this.#countByStatus.all()) {
      if (jobStatuses.includes(status as JobStatus)) counts[status as JobStatus] = n;
    }
    return counts;
  }

  /**
   * One page of a person's delivered (`succeeded`) jobs in one server (`null`: direct messages), newest first:
   * `limit` jobs after skipping `offset`, and the total.
   */
  history(userId: string, guildId: string | null, limit: number, offset: number): JobHistoryPage {
    return {
      jobs: this.#selectHistory.all(userId, guildId, limit, offset).map(toRecord),
      total: this.#countHistory.get(userId, guildId)?.n ?? 0,
    };
  }

  /**
   * Deletes a person's finished jobs in one server (`null`: direct messages); waiting and running ones stay.
   * Jobs that rerolled or remixed a deleted one lose the link. Returns how many were deleted.
   */
  clearHistory(userId: string, guildId: string | null): number {
    return this.#deleteHistory.run(userId, guildId).changes;
  }

  /**
   * Deletes finished jobs that ended before `finishedBefore` (ms), oldest first and at most `limit` of them;
   * returns how many. Unfinished jobs are kept; jobs that rerolled or remixed a deleted one lose the link.
   */
  prune(finishedBefore: number, limit = -1): number {
    return this.#prune.run(finishedBefore, limit).changes;
  }
}
