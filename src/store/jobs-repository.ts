import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { MAX_SEED } from '../random/index.js';
import { finalJobStatuses, jobStatuses, type JobPatch, type JobRecord, type JobStatus, type NewJob } from './job-types.js';

interface JobRow {
  id: string;
  kind: string;
  status: string;
  parent_job_id: string | null;
  guild_id: string | null;
  channel_id: string;
  user_id: string;
  prompt: string;
  negative_prompt: string;
  seed: string;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  scheduler: string;
  count: number;
  strength: number;
  source_image_url: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error_identifier: string | null;
  status_message_id: string | null;
  result_message_id: string | null;
  result_channel_id: string | null;
  attachment_urls: string;
  stage_durations: string;
}

type MutableRow = Pick<
  JobRow,
  | 'id'
  | 'status'
  | 'started_at'
  | 'finished_at'
  | 'error_identifier'
  | 'status_message_id'
  | 'result_message_id'
  | 'result_channel_id'
  | 'attachment_urls'
  | 'stage_durations'
>;

const columns = `id, kind, status, parent_job_id, guild_id, channel_id, user_id, prompt, negative_prompt, seed, steps, guidance,
  width, height, scheduler, count, strength, source_image_url, created_at, started_at, finished_at, error_identifier,
  status_message_id, result_message_id, result_channel_id, attachment_urls, stage_durations`;

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
  return Object.freeze({
    id: row.id,
    kind: row.kind as JobRecord['kind'],
    status: row.status as JobStatus,
    parentJobId: row.parent_job_id,
    guildId: row.guild_id,
    channelId: row.channel_id,
    userId: row.user_id,
    prompt: row.prompt,
    negativePrompt: row.negative_prompt,
    seed: row.seed,
    steps: row.steps,
    guidance: row.guidance,
    width: row.width,
    height: row.height,
    scheduler: row.scheduler,
    count: row.count,
    strength: row.strength,
    sourceImageUrl: row.source_image_url,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    errorIdentifier: row.error_identifier,
    statusMessageId: row.status_message_id,
    resultMessageId: row.result_message_id,
    resultChannelId: row.result_channel_id,
    attachmentUrls: Object.freeze(parseJson<string[]>(row.attachment_urls, [])),
    stageDurations: Object.freeze(parseJson<Record<string, number>>(row.stage_durations, {})),
  });
}

function requireText(name: string, value: unknown, maxLength = Number.POSITIVE_INFINITY): void {
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw new TypeError(
      `job ${name} must be a non-empty string${Number.isFinite(maxLength) ? ` of at most ${maxLength} characters` : ''}, got ${JSON.stringify(value)}`,
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
  for (const name of ['steps', 'width', 'height', 'count'] as const) {
    if (!Number.isSafeInteger(job[name])) throw new TypeError(`job ${name} must be an integer, got ${JSON.stringify(job[name])}`);
  }
  for (const name of ['guidance', 'strength'] as const) {
    if (!Number.isFinite(job[name])) throw new TypeError(`job ${name} must be a finite number, got ${JSON.stringify(job[name])}`);
  }
  requireText('scheduler', job.scheduler);
  if (job.status !== undefined && job.status !== 'queued' && job.status !== 'running')
    throw new TypeError(`a new job is queued or running, not ${job.status}`);
}

/** Job records: what ran, with which parameters, and where its result message is. */
export class JobsRepository {
  readonly #insert: BetterSqlite3.Statement<[JobRow]>;
  readonly #selectById: BetterSqlite3.Statement<[string], JobRow>;
  readonly #selectByResultMessage: BetterSqlite3.Statement<[string], JobRow>;
  readonly #updateMutable: BetterSqlite3.Statement<[MutableRow]>;
  readonly #selectUnfinished: BetterSqlite3.Statement<[], JobRow>;
  readonly #markInterrupted: BetterSqlite3.Statement<[number, string]>;
  readonly #lastCreated: BetterSqlite3.Statement<[string, string | null], { at: number | null }>;
  readonly #countByStatus: BetterSqlite3.Statement<[], { status: string; n: number }>;
  readonly #prune: BetterSqlite3.Statement<[number, number]>;
  readonly #update: (id: string, patch: JobPatch) => JobRecord | undefined;
  readonly #interruptAll: () => JobRecord[];
  readonly #now: () => number;

  constructor(db: BetterSqlite3.Database, now: () => number) {
    this.#now = now;
    this.#insert = db.prepare(`INSERT INTO jobs (${columns}) VALUES (@id, @kind, @status, @parent_job_id, @guild_id, @channel_id, @user_id,
      @prompt, @negative_prompt, @seed, @steps, @guidance, @width, @height, @scheduler, @count, @strength, @source_image_url,
      @created_at, @started_at, @finished_at, @error_identifier, @status_message_id, @result_message_id, @result_channel_id, @attachment_urls, @stage_durations)`);
    this.#selectById = db.prepare(`SELECT ${columns} FROM jobs WHERE id = ?`);
    this.#selectByResultMessage = db.prepare(`SELECT ${columns} FROM jobs WHERE result_message_id = ? ORDER BY created_at DESC LIMIT 1`);
    this.#updateMutable = db.prepare(`UPDATE jobs SET status = @status, started_at = @started_at, finished_at = @finished_at,
      error_identifier = @error_identifier, status_message_id = @status_message_id, result_message_id = @result_message_id, result_channel_id = @result_channel_id,
      attachment_urls = @attachment_urls, stage_durations = @stage_durations WHERE id = @id`);
    this.#selectUnfinished = db.prepare(`SELECT ${columns} FROM jobs WHERE status IN ${unfinished} ORDER BY created_at, id`);
    this.#markInterrupted = db.prepare(`UPDATE jobs SET status = 'interrupted', finished_at = ?,
      error_identifier = COALESCE(error_identifier, ?) WHERE status IN ${unfinished}`);
    this.#lastCreated = db.prepare('SELECT MAX(created_at) AS at FROM jobs WHERE user_id = ? AND guild_id IS ?');
    this.#countByStatus = db.prepare('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status');
    // Every final status sets finished_at, so the index on it finds the oldest finished jobs without a scan.
    this.#prune = db.prepare(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at < ? AND status NOT IN ${unfinished}
      ORDER BY finished_at LIMIT ?)`);

    this.#update = db.transaction((id: string, patch: JobPatch) => {
      const row = this.#selectById.get(id);
      if (row === undefined) return undefined;
      const now = this.#now();
      const next: MutableRow = {
        id,
        status: row.status,
        started_at: row.started_at,
        finished_at: row.finished_at,
        error_identifier: row.error_identifier,
        status_message_id: row.status_message_id,
        result_message_id: row.result_message_id,
        result_channel_id: row.result_channel_id,
        attachment_urls: row.attachment_urls,
        stage_durations: row.stage_durations,
      };
      if (patch.status !== undefined) {
        requireStatus(patch.status);
        next.status = patch.status;
        if (patch.status === 'running' && next.started_at === null) next.started_at = now;
        if (finalJobStatuses.includes(patch.status) && next.finished_at === null) next.finished_at = now;
      }
      if (patch.startedAt !== undefined) next.started_at = patch.startedAt;
      if (patch.finishedAt !== undefined) next.finished_at = patch.finishedAt;
      if (patch.errorIdentifier !== undefined) next.error_identifier = patch.errorIdentifier;
      if (patch.statusMessageId !== undefined) next.status_message_id = patch.statusMessageId;
      if (patch.resultMessageId !== undefined) next.result_message_id = patch.resultMessageId;
      if (patch.resultChannelId !== undefined) next.result_channel_id = patch.resultChannelId;
      if (patch.attachmentUrls !== undefined) next.attachment_urls = JSON.stringify([...patch.attachmentUrls]);
      if (patch.stageDurations !== undefined) {
        next.stage_durations = JSON.stringify({ ...parseJson<Record<string, number>>(row.stage_durations, {}), ...patch.stageDurations });
      }
      this.#updateMutable.run(next);
      return toRecord(this.#selectById.get(id)!);
    });

    this.#interruptAll = db.transaction(() => {
      const rows = this.#selectUnfinished.all();
      if (rows.length === 0) return [];
      this.#markInterrupted.run(this.#now(), interruptedErrorIdentifier);
      return rows.map((row) => toRecord(this.#selectById.get(row.id)!));
    });
  }

  /** Stores a new job (status `queued` unless given) and returns it as stored. */
  create(job: NewJob): JobRecord {
    const id = job.id ?? randomUUID();
    checkNewJob(job, id);
    const status = job.status ?? 'queued';
    const createdAt = job.createdAt ?? this.#now();
    this.#insert.run({
      id,
      kind: job.kind,
      status,
      parent_job_id: job.parentJobId ?? null,
      guild_id: job.guildId,
      channel_id: job.channelId,
      user_id: job.userId,
      prompt: job.prompt,
      negative_prompt: job.negativePrompt,
      seed: job.seed,
      steps: job.steps,
      guidance: job.guidance,
      width: job.width,
      height: job.height,
      scheduler: job.scheduler,
      count: job.count,
      strength: job.strength,
      source_image_url: job.sourceImageUrl,
      created_at: createdAt,
      started_at: status === 'running' ? createdAt : null,
      finished_at: null,
      error_identifier: null,
      status_message_id: null,
      result_message_id: null,
      result_channel_id: null,
      attachment_urls: '[]',
      stage_durations: '{}',
    });
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
  markUnfinishedInterrupted(): JobRecord[] {
    return this.#interruptAll();
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
   * Deletes finished jobs that ended before `finishedBefore` (ms), oldest first and at most `limit` of them;
   * returns how many. Unfinished jobs are kept; jobs that rerolled or remixed a deleted one lose the link.
   */
  prune(finishedBefore: number, limit = -1): number {
    return this.#prune.run(finishedBefore, limit).changes;
  }
}
