import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { finalJobStatuses, openStore, type JobRecord, type Store } from '../../src/store/index.js';
import type { ApiChannel, ApiMessage, ApiUser } from '../fake-discord/api-types.js';
import { testHeartbeatIntervalMs } from '../fake-discord/harness.js';
import { FakeDiscord, type FakeGuild, type InteractionHandle } from '../fake-discord/index.js';
import type { FakeDiscordOptions } from '../fake-discord/options.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { e2eOnRedis, startRemoteBackend } from '../scale/remote-backend-world.js';
import { scaled, waitFor } from '../helpers/time-scale.js';

/** The compiled CLI next to this compiled test (dist/cli.js in `npm test`). */
const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

/** One line the bot logged (pino JSON). */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The real bot, running as `node dist/cli.js bot` in its own process. */
export interface BotProcess {
  readonly process: ChildProcess;
  /** Every line the bot wrote to stdout/stderr, raw. */
  readonly output: string[];
  /** Parsed JSON log lines. */
  readonly logs: LogLine[];
  /** Resolves with the exit code (or signal) once the process ended (its last lines may still be in the pipe: use waitForLog). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Waits for a log line matching the predicate (already logged or still to come). `timeoutMs` is the budget
   * on a quiet machine (default 60 s), stretched by the e2e time scale.
   */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** Options of {@link startBotWorld}. */
export interface BotWorldOptions {
  readonly fake?: FakeDiscordOptions;
  /** Merged into the bot's config file (LATENTCORD_CONFIG). */
  readonly config?: Record<string, unknown>;
  /** Extra environment variables for the bot process. */
  readonly env?: Record<string, string>;
}

/** A fake Discord with a small world, and the real bot process connected to it. */
export interface BotWorld {
  readonly discord: FakeDiscord;
  readonly guild: FakeGuild;
  /** `#general`: the bot has its default permissions. */
  readonly channel: ApiChannel;
  /** A member without special permissions. */
  readonly alice: ApiUser;
  /** Another member without special permissions. */
  readonly bob: ApiUser;
  /** A member with Manage Server and Manage Messages. */
  readonly admin: ApiUser;
  readonly dataDir: string;
  bot: BotProcess;
  /**
   * The process whose children are the pipeline processes: the bot, or the remote worker when the suite
   * runs on the Redis backend (`LATENTCORD_TEST_BACKEND=redis`).
   */
  pipelineParentPid(): number;
  /** Starts the bot again (after it stopped), with the same data folder. */
  restartBot(): Promise<BotProcess>;
  /** SIGTERM, then waits for the exit. */
  stopBot(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The job's record as the bot stored it now (read from its SQLite file). */
  storedJob(jobId: string): JobRecord | undefined;
  /**
   * Waits until the job's stored record satisfies `predicate` and returns it. The bot updates a record after
   * the Discord call that shows the change (a result is visible before the job is `succeeded`): wait for the
   * record, never read it right after seeing the message.
   */
  waitForJob(jobId: string, predicate: (job: JobRecord) => boolean, what: string, timeoutMs?: number): Promise<JobRecord>;
  /** Waits until the job reached a final status (succeeded, failed, cancelled, interrupted) and returns it. */
  settledJob(jobId: string): Promise<JobRecord>;
  /** Stored jobs per status, over every job this world's bot made (for checks after the bot stopped). */
  jobCounts(): Record<string, number>;
  /**
   * The id of the job the bot submitted for a request, from its `job submitted` log line (which carries the
   * job id, user and prompt): for jobs whose id no message shows.
   */
  submittedJobId(predicate: (line: LogLine) => boolean): Promise<string>;
  close(): Promise<void>;
}

/** Defaults that keep the tiny model fast: 64×64, few steps, no warm-up, quick progress edits, no live previews. */
export const testBotConfig = {
  runtime: { warmUp: false },
  progress: { editIntervalMs: 200 },
  shutdown: { graceSeconds: 20 },
  queue: { maxLength: 25, jobTimeoutSeconds: 120, maxBatchImages: 4 },
  guildDefaults: {
    steps: 4,
    guidance: 7.5,
    width: 64,
    height: 64,
    scheduler: 'euler',
    strength: 0.7,
    negativePrefix: '',
    maxSteps: 50,
    maxPixels: 65536,
    maxCount: 4,
    userQueueLimit: 2,
    cooldownSeconds: 0,
    allowedChannels: [],
    bannedWords: [],
    allowDMs: true,
    // Tests about other things wait for the first message with attachments: no live previews unless asked.
    previewEverySteps: 0,
  },
};

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/**
 * @param mirrored - Output of processes that count as part of the bot (the remote worker when the suite runs
 *   on the Redis backend): the lines of their pipeline module are read as the bot's own.
 */
function spawnBot(env: Record<string, string>, mirrored: readonly NodeJS.ReadableStream[] = []): BotProcess {
  const child = spawn(process.execPath, [cliPath, 'bot'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const logs: LogLine[] = [];
  const waiters = new Set<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  const onData = (chunk: Buffer, buffer: { rest: string }, tag = 'bot') => {
    buffer.rest += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.rest.indexOf('\n')) >= 0) {
      const line = buffer.rest.slice(0, newline);
      buffer.rest = buffer.rest.slice(newline + 1);
      // Of a remote worker, only what its pipeline process says (restarts, warnings) passes for the bot's.
      if (tag === 'worker' && !line.includes('"module":"pipeline"')) continue;
      output.push(line);
      if (process.env['LATENTCORD_TEST_BOT_LOGS']) process.stderr.write(`[${tag}] ${line}\n`);
      try {
        const parsed = JSON.parse(line) as LogLine;
        logs.push(parsed);
        for (const waiter of waiters) {
          if (waiter.predicate(parsed)) {
            waiters.delete(waiter);
            waiter.resolve(parsed);
          }
        }
      } catch {
        // not a JSON log line (e.g. a native library writing to stderr)
      }
    }
  };
  const stdout = { rest: '' };
  const stderr = { rest: '' };
  child.stdout!.on('data', (chunk: Buffer) => onData(chunk, stdout));
  child.stderr!.on('data', (chunk: Buffer) => onData(chunk, stderr));
  for (const stream of mirrored) {
    const buffer = { rest: '' };
    const listener = (chunk: Buffer) => onData(chunk, buffer, 'worker');
    stream.on('data', listener);
    child.once('exit', () => stream.off('data', listener));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // 'exit' can come before the last lines were read from the pipes; 'close' comes after them. (A pipeline
  // process that outlives a killed bot holds the pipes open, and then 'close' waits for it too.)
  const drained = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    output,
    logs,
    exited,
    waitForLog(predicate, timeoutMs = 60_000) {
      const found = logs.find(predicate);
      if (found) return Promise.resolve(found);
      timeoutMs = scaled(timeoutMs);
      return new Promise<LogLine>((resolve, reject) => {
        const waiter = { predicate, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no bot log line matched within ${timeoutMs} ms; last lines:\n${output.slice(-15).join('\n')}`));
        }, timeoutMs);
        waiters.add(waiter);
        void drained.then(({ code, signal }) => {
          if (waiters.delete(waiter)) {
            clearTimeout(timer);
            reject(
              new Error(
                `the bot exited (${code ?? signal}) before logging what was expected; last lines:\n${output.slice(-15).join('\n')}`,
              ),
            );
          }
        });
      });
    },
  };
}

/**
 * Starts a fake Discord with guild `Test Guild`, channel `#general` and members alice, bob and admin, then
 * the real bot process against it (real discord.js, real pipeline process on the tiny model, real SQLite
 * in a temp folder), and waits until the bot is connected.
 */
export async function startBotWorld(options: BotWorldOptions = {}): Promise<BotWorld> {
  const discord = await FakeDiscord.start({
    heartbeatIntervalMs: testHeartbeatIntervalMs,
    retryAfterPrecision: 'milliseconds',
    ...options.fake,
  });
  const guild = discord.createGuild({ name: 'Test Guild' });
  const channel = discord.createChannel(guild.id, { name: 'general' });
  const alice = discord.createUser({ username: 'alice' });
  const bob = discord.createUser({ username: 'bob' });
  const admin = discord.createUser({ username: 'admin' });
  discord.addMember(guild.id, alice.id);
  discord.addMember(guild.id, bob.id);
  discord.addMember(guild.id, admin.id, { permissions: ['ManageGuild', 'ManageMessages'] });

  const dataDir = mkdtempSync(join(tmpdir(), 'latentcord-bot-'));
  const configFile = join(dataDir, 'test-config.json');
  // LATENTCORD_TEST_BACKEND=redis: every world runs its jobs on a remote worker through a real redis-server.
  const remote =
    e2eOnRedis && !options.env?.['LATENTCORD_REDIS_URL']
      ? await startRemoteBackend(merge(testBotConfig, options.config ?? {}), options.env?.['LATENTCORD_MODEL_DIR'])
      : undefined;
  writeFileSync(configFile, JSON.stringify(merge(merge(testBotConfig, remote?.config ?? {}), options.config ?? {}), null, 2));
  const cdnHost = new URL(discord.cdnUrl).host;
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: dataDir,
    DISCORD_TOKEN: discord.botToken,
    DISCORD_API_URL: discord.apiUrl,
    LATENTCORD_MODEL_DIR: tinyModelDir,
    LATENTCORD_DATA_DIR: join(dataDir, 'data'),
    LATENTCORD_ATTACHMENT_HOSTS: cdnHost,
    LATENTCORD_CONFIG: configFile,
    LATENTCORD_LOG_LEVEL: 'debug',
    LATENTCORD_LOG_PRETTY: 'false',
    ...remote?.env,
    ...options.env,
  };

  const launch = async (): Promise<BotProcess> => {
    const bot = spawnBot(env, remote ? [remote.worker.process.stdout!, remote.worker.process.stderr!] : []);
    await bot.waitForLog((line) => line.msg === 'connected to Discord', 90_000);
    if (remote) await bot.waitForLog((line) => line.msg === 'worker joined', 30_000);
    return bot;
  };
  let store: Store | undefined;
  const readStore = (): Store => (store ??= openStore(join(dataDir, 'data')));

  let bot: BotProcess;
  try {
    bot = await launch();
  } catch (error) {
    await discord.close();
    await remote?.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const world: BotWorld = {
    discord,
    guild,
    channel,
    alice,
    bob,
    admin,
    dataDir,
    bot,
    pipelineParentPid() {
      return (remote ? remote.worker.process.pid : world.bot.process.pid)!;
    },
    async restartBot() {
      world.bot = await launch();
      return world.bot;
    },
    async stopBot() {
      if (world.bot.process.exitCode === null && world.bot.process.signalCode === null) world.bot.process.kill('SIGTERM');
      return world.bot.exited;
    },
    storedJob(jobId) {
      return readStore().getJob(jobId);
    },
    waitForJob(jobId, predicate, what, timeoutMs = 30_000) {
      return waitFor(
        () => {
          const job = readStore().getJob(jobId);
          return job && predicate(job) ? job : undefined;
        },
        () => `job ${jobId}: ${what} (stored status: ${readStore().getJob(jobId)?.status ?? 'no record'})`,
        { timeoutMs },
      );
    },
    settledJob(jobId) {
      return world.waitForJob(jobId, (job) => finalJobStatuses.includes(job.status), 'it reached a final status');
    },
    jobCounts() {
      return readStore().countJobsByStatus();
    },
    async submittedJobId(predicate) {
      const line = await world.bot.waitForLog((l) => l.msg === 'job submitted' && predicate(l), 30_000);
      return String(line['job']);
    },
    async close() {
      const current = world.bot;
      if (current.process.exitCode === null && current.process.signalCode === null) {
        current.process.kill('SIGTERM');
        const timer = setTimeout(() => current.process.kill('SIGKILL'), scaled(30_000));
        await current.exited;
        clearTimeout(timer);
      }
      store?.close();
      await discord.close();
      await remote?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return world;
}

/** The PNG attachments of a message, as bytes from the fake CDN. */
export function attachmentsOf(discord: FakeDiscord, message: ApiMessage): Buffer[] {
  return (message.attachments ?? []).map((attachment) => discord.attachmentBytes(attachment)!);
}

/** Whether an attachment is a live preview (`preview-<job>-step<n>.jpg`) rather than a result. */
export function isPreview(filename: string): boolean {
  return /^preview-[0-9a-f]+-step\d+\.jpg$/u.test(filename);
}

/** The `custom_id`s of a message's buttons. */
export function buttonIds(message: ApiMessage): string[] {
  const rows = (message.components ?? []) as { components?: { custom_id?: string }[] }[];
  return rows.flatMap((row) => (row.components ?? []).map((c) => c.custom_id ?? '')).filter(Boolean);
}

/**
 * Waits until the interaction's original message shows a finished result (attachments) or a failure (❌).
 * `timeoutMs`: budget on a quiet machine, stretched by the e2e time scale.
 */
export function resultOf(handle: InteractionHandle, timeoutMs = 60_000): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => (m.attachments ?? []).some((a) => !isPreview(a.filename)) || m.content.startsWith('❌'), {
    timeoutMs,
  });
}

/**
 * The text of an interaction's private (ephemeral) answer: a direct reply (type 4), or an ephemeral follow-up
 * after a deferral. Fails when Discord refused one of the bot's acknowledgements (a second one is 40060: the
 * user would see "thinking…" forever).
 */
export async function privateAnswerOf(handle: InteractionHandle, timeoutMs = 15_000): Promise<string> {
  const step = await handle.waitFor(
    (s) => (s.kind === 'callback' && s.type === 4) || (s.kind === 'followUp' && (s.message.flags & 64) === 64),
    { timeoutMs },
  );
  const rejected = handle.steps.filter((s) => s.kind === 'callbackRejected');
  if (rejected.length > 0) throw new Error(`Discord refused an acknowledgement: ${handle.describeSteps()}`);
  if (step.kind === 'callback') {
    const data = step.data as { content?: string; flags?: number };
    if (((data.flags ?? 0) & 64) !== 64) throw new Error(`the answer is public: ${data.content}`);
    return data.content ?? '';
  }
  if (step.kind !== 'followUp') throw new Error(`unexpected step ${step.kind}`);
  return step.message.content;
}

/** Resolves once the job's message shows denoising progress (step 1 or later: it holds the pipeline). */
export function running(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => /step [1-9]\d*\/\d+/.test(m.content), { timeoutMs: 30_000 });
}
