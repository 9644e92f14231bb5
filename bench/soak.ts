import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ApiMessage, ApiUser } from '../test/fake-discord/api-types.js';
import type { InteractionHandle } from '../test/fake-discord/interaction.js';
import { startBotWorld, type BotWorld } from '../test/bot/bot-world.js';
import type { BenchOptions } from './common.js';
import { childPids, machineLoad, openFds, rssMb, type FdCounts } from './proc-stats.js';
import { fixed, median, percentile, printTable, signed } from './stats.js';

/** Bot settings of the soak: the e2e defaults (64×64, 4 steps, euler, batches of up to 4 images) with room for 200 jobs. */
const soakConfig = { guildDefaults: { userQueueLimit: 25 }, queue: { maxLength: 250 } };
/** Users sending jobs, round robin. */
const userCount = 8;
/** Share of the jobs sent first to warm everything up; figures after it are the plateau. */
const warmUpShare = 0.1;
/** Measured phases after the warm-up, each ending with an idle sample. */
const measuredPhases = 3;
/** Requests sent in the same instant once per phase, from different users (a rush after an announcement). */
const rushSize = 12;
/** How long to let the bot settle (GC, sockets) before an idle sample. */
const settleMs = 2000;
/** After the last phase: long enough for idle keep-alive connections to close (Node's server closes them after 5 s). */
const finalIdleMs = 10_000;
const sampleIntervalMs = 500;
/** Preloaded into the bot and pipeline processes: a forced GC and memory figures on SIGUSR2. */
const heapProbe = fileURLToPath(new URL('./heap-probe.js', import.meta.url));
/** Longest wait for one job's answer. */
const answerTimeoutMs = 300_000;

/** Deterministic pseudo-random numbers (mulberry32), so every soak sends the same sequence of jobs. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One /imagine sent by the soak and what became of it. */
interface SentJob {
  readonly handle: InteractionHandle;
  readonly images: number;
  /** Resolves once the bot answered with the result or an error. */
  readonly answer: Promise<{ delivered: boolean; error?: string }>;
}

/** One /proc sample of the bot and its pipeline process. */
interface Sample {
  readonly at: number;
  readonly botRss: number | undefined;
  readonly pipelinePid: number | undefined;
  readonly pipelineRss: number | undefined;
}

/** What {@link heapProbe} reports after a full GC, in MiB. */
interface HeapReading {
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** Memory and handles of both processes at one quiet moment. */
interface Snapshot {
  readonly label: string;
  readonly jobsSent: number;
  readonly botRss: number | undefined;
  readonly pipelineRss: number | undefined;
  readonly botFds: FdCounts | undefined;
  readonly pipelineFds: FdCounts | undefined;
  readonly botHeap: HeapReading | undefined;
  readonly pipelineHeap: HeapReading | undefined;
  /** Highest RSS sampled since the previous snapshot. */
  readonly botRssMax: number;
  readonly pipelineRssMax: number;
  readonly seconds: number;
}

function pipelinePidOf(botPid: number): number | undefined {
  const children = childPids(botPid);
  return children.length === 1 ? children[0] : undefined;
}

/** Asks the probes of these processes for a GC and their memory figures; waits up to 3 s for the answers. */
async function probeHeaps(file: string, pids: readonly (number | undefined)[]): Promise<(HeapReading | undefined)[]> {
  const askedAt = Date.now();
  for (const pid of pids) if (pid !== undefined) process.kill(pid, 'SIGUSR2');
  const readings = new Map<number, HeapReading>();
  const deadline = performance.now() + 3000;
  while (performance.now() < deadline) {
    await sleep(50);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as { pid: number; at: number; heapUsed: number; external: number; arrayBuffers: number };
      if (entry.at < askedAt) continue;
      readings.set(entry.pid, { heapUsed: entry.heapUsed / 2 ** 20, external: entry.external / 2 ** 20, arrayBuffers: entry.arrayBuffers / 2 ** 20 });
    }
    if (pids.every((pid) => pid === undefined || readings.has(pid))) break;
  }
  return pids.map((pid) => (pid === undefined ? undefined : readings.get(pid)));
}

function isAnswer(message: ApiMessage): boolean {
  return (message.attachments ?? []).length > 0 || message.content.startsWith('❌');
}

function sendImagine(world: BotWorld, user: ApiUser, random: () => number, index: number): SentJob {
  const images = random() < 0.15 ? 2 : 1;
  const steps = random() < 0.1 ? 6 : 4;
  const handle = world.discord.sendSlashCommand({
    user,
    channelId: world.channel.id,
    name: 'imagine',
    options: { prompt: `soak job ${index}: a lighthouse in a storm, oil painting`, seed: String(Math.floor(random() * 2 ** 32)), steps, count: images },
  });
  const answer = handle.waitForOriginal(isAnswer, { timeoutMs: answerTimeoutMs }).then(
    (message) => (message.attachments.length > 0 ? { delivered: true } : { delivered: false, error: message.content.slice(0, 120) }),
    (error: Error) => ({ delivered: false, error: `no answer: ${error.message.split('\n')[0]}` }),
  );
  return { handle, images, answer };
}

/** Milliseconds from dispatch to the accepted callback (the fake's clock), or undefined when refused. */
function ackLatency(handle: InteractionHandle): number | undefined {
  return handle.steps.find((step) => step.kind === 'callback')?.elapsedMs;
}

/** Milliseconds from dispatch to the message with the images. */
function resultLatency(handle: InteractionHandle): number | undefined {
  const step = handle.steps.find((s) => (s.kind === 'originalEdited' || s.kind === 'followUp') && (s.message.attachments ?? []).length > 0);
  return step?.elapsedMs;
}

const mib = (value: number | undefined) => fixed(value ?? Number.NaN, 1);
const heapText = (heap: HeapReading | undefined) => (heap ? `${fixed(heap.heapUsed, 1)} / ${fixed(heap.arrayBuffers, 2)}` : '–');
const fdText = (fds: FdCounts | undefined) => (fds ? `${fds.total} (${fds.sockets} sock, ${fds.pipes} pipe, ${fds.anonInodes} anon, ${fds.files} file)` : '–');

/**
 * Section `soak`: jobs through the real bot process against the fake Discord (several users, a seeded mix of
 * bursts and gaps), sampling RSS of the bot and of its pipeline process from /proc, counting their open file
 * descriptors at start, after warm-up and after each phase, and timing interaction acknowledgements.
 */
export async function soakSection(options: BenchOptions): Promise<void> {
  const total = options.soakJobs;
  const warmUpJobs = Math.max(1, Math.round(total * warmUpShare));
  const phaseSizes = [warmUpJobs];
  for (let i = 0; i < measuredPhases; i++) {
    const left = total - phaseSizes.reduce((a, b) => a + b, 0);
    phaseSizes.push(i === measuredPhases - 1 ? left : Math.round((total - warmUpJobs) / measuredPhases));
  }
  console.log(`\n## Soak (${total} /imagine jobs through the real bot process against the fake Discord; tiny model, 64x64, 4 steps (10 % with 6), 15 % with 2 images, euler, CFG 7.5, maxBatchImages 4; ${userCount} users round robin, 30-300 ms apart or (30 %) at once, plus a rush of ${rushSize} at once mid-phase)\n`);

  const sectionStart = performance.now();
  const probeDir = mkdtempSync(join(tmpdir(), 'latentcord-bench-soak-'));
  const probeFile = join(probeDir, 'heap.jsonl');
  const benchLoop = monitorEventLoopDelay({ resolution: 5 });
  const world = await startBotWorld({
    config: soakConfig,
    env: { LATENTCORD_LOG_LEVEL: 'info', NODE_OPTIONS: `--import=${heapProbe}`, LATENTCORD_BENCH_PROBE_FILE: probeFile },
  });
  const botPid = world.bot.process.pid!;
  const samples: Sample[] = [];
  const snapshots: Snapshot[] = [];
  const sent: SentJob[] = [];
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    const users: ApiUser[] = [world.alice, world.bob, world.admin];
    for (let i = users.length; i < userCount; i++) {
      const user = world.discord.createUser({ username: `soak-user-${i}` });
      world.discord.addMember(world.guild.id, user.id);
      users.push(user);
    }
    const sample = () => {
      const pipelinePid = pipelinePidOf(botPid);
      samples.push({ at: performance.now(), botRss: rssMb(botPid), pipelinePid, pipelineRss: pipelinePid === undefined ? undefined : rssMb(pipelinePid) });
    };
    sample();
    const sampler = setInterval(sample, sampleIntervalMs);
    let lastSnapshotAt = performance.now();
    let samplesSeen = 0;
    const snapshot = async (label: string) => {
      const now = performance.now();
      const pipelinePid = pipelinePidOf(botPid);
      const [botHeap, pipelineHeap] = await probeHeaps(probeFile, [botPid, pipelinePid]);
      sample();
      const since = samples.slice(samplesSeen);
      samplesSeen = samples.length;
      snapshots.push({
        label,
        jobsSent: sent.length,
        botRss: rssMb(botPid),
        pipelineRss: pipelinePid === undefined ? undefined : rssMb(pipelinePid),
        botFds: openFds(botPid),
        pipelineFds: pipelinePid === undefined ? undefined : openFds(pipelinePid),
        botHeap,
        pipelineHeap,
        botRssMax: Math.max(...since.map((s) => s.botRss ?? Number.NaN).filter(Number.isFinite)),
        pipelineRssMax: Math.max(...since.map((s) => s.pipelineRss ?? Number.NaN).filter(Number.isFinite)),
        seconds: (now - lastSnapshotAt) / 1000,
      });
      lastSnapshotAt = now;
    };

    try {
      benchLoop.enable();
      await sleep(settleMs);
      await snapshot('connected, before any job');
      const random = seededRandom(4);
      for (const [phase, count] of phaseSizes.entries()) {
        const phaseJobs: SentJob[] = [];
        for (let i = 0; i < count; i++) {
          const job = sendImagine(world, users[sent.length % users.length]!, random, sent.length);
          sent.push(job);
          phaseJobs.push(job);
          // Mostly a steady trickle, sometimes several requests in the same instant, and one rush per phase.
          const rushStart = Math.floor(count / 2);
          const inRush = i >= rushStart && i < rushStart + rushSize - 1;
          const gap = inRush || random() < 0.3 ? 0 : 30 + random() * 270;
          if (gap > 0) await sleep(gap);
        }
        await Promise.all(phaseJobs.map((job) => job.answer));
        await sleep(settleMs);
        await snapshot(phase === 0 ? `warm-up (${count} jobs)` : `phase ${phase} (${count} jobs)`);
      }
      await sleep(finalIdleMs - settleMs);
      await snapshot(`end, ${finalIdleMs / 1000} s idle`);
    } finally {
      clearInterval(sampler);
      benchLoop.disable();
    }
    const stopStarted = performance.now();
    exit = await world.stopBot();
    const stopMs = performance.now() - stopStarted;

    const answers = await Promise.all(sent.map((job) => job.answer));
    const delivered = answers.filter((a) => a.delivered).length;
    const errors = answers.filter((a) => !a.delivered);
    const acks = sent.map((job) => ackLatency(job.handle)).filter((ms): ms is number => ms !== undefined);
    const results = sent.map((job) => resultLatency(job.handle)).filter((ms): ms is number => ms !== undefined);
    const finished = world.bot.logs.filter((line) => line.msg === 'job finished');
    const stage = (name: string) => median(finished.map((line) => (line['stages'] as Record<string, number> | undefined)?.[name] ?? Number.NaN).filter(Number.isFinite));
    const pipelinePids = new Set(samples.map((s) => s.pipelinePid).filter((pid) => pid !== undefined));
    const restarts = world.bot.logs.filter((line) => line.msg === 'pipeline process restarted').length;
    const loggedErrors = world.bot.logs.filter((line) => line.level >= 50).length;
    const rateLimited = world.discord.requests.filter((r) => r.status === 429).length;

    console.log(`### Memory and handles (idle moments: ${settleMs / 1000} s after a phase's last answer, then a forced full GC in both processes)\n`);
    printTable(
      ['moment', 'jobs sent', 'phase (s)', 'bot RSS (MiB)', 'bot RSS max in phase', 'bot heap / ArrayBuffers after GC (MiB)', 'pipeline RSS (MiB)', 'pipeline RSS max in phase', 'pipeline heap / ArrayBuffers after GC (MiB)'],
      snapshots.map((s) => [
        s.label,
        String(s.jobsSent),
        fixed(s.seconds, 1),
        mib(s.botRss),
        mib(s.botRssMax),
        heapText(s.botHeap),
        mib(s.pipelineRss),
        mib(s.pipelineRssMax),
        heapText(s.pipelineHeap),
      ]),
    );
    console.log('');
    printTable(
      ['moment', 'bot open fds', 'pipeline open fds'],
      snapshots.map((s) => [s.label, fdText(s.botFds), fdText(s.pipelineFds)]),
    );
    // Like with like: after warm-up and after the last phase are both 2 s after a phase's last answer.
    const start = snapshots[0]!;
    const plateau = snapshots[1]!;
    const last = snapshots[snapshots.length - 2]!;
    const idle = snapshots[snapshots.length - 1]!;
    const growth = (from: number | undefined, to: number | undefined) => {
      const delta = (to ?? Number.NaN) - (from ?? Number.NaN);
      return `${signed(delta, 1)} MiB (${signed((100 * delta) / (from ?? Number.NaN), 1)} %)`;
    };
    const fdPath = (pick: (s: Snapshot) => FdCounts | undefined) => [start, plateau, last, idle].map((s) => String(pick(s)?.total ?? '–')).join(' → ');
    const maxRss = (pick: (s: Sample) => number | undefined) => mib(Math.max(...samples.map((s) => pick(s) ?? Number.NaN).filter(Number.isFinite)));
    console.log('');
    printTable(
      ['process', 'RSS after warm-up (MiB)', 'RSS after last phase (MiB)', 'RSS growth', 'heap after GC: growth', 'ArrayBuffers after GC: growth', 'max RSS sampled (MiB)', 'open fds: start → warm-up → last phase → idle'],
      [
        [
          `bot (pid ${botPid})`,
          mib(plateau.botRss),
          mib(last.botRss),
          growth(plateau.botRss, last.botRss),
          growth(plateau.botHeap?.heapUsed, last.botHeap?.heapUsed),
          growth(plateau.botHeap?.arrayBuffers, last.botHeap?.arrayBuffers),
          maxRss((s) => s.botRss),
          fdPath((s) => s.botFds),
        ],
        [
          `pipeline (pid ${[...pipelinePids].join(', ') || '?'})`,
          mib(plateau.pipelineRss),
          mib(last.pipelineRss),
          growth(plateau.pipelineRss, last.pipelineRss),
          growth(plateau.pipelineHeap?.heapUsed, last.pipelineHeap?.heapUsed),
          growth(plateau.pipelineHeap?.arrayBuffers, last.pipelineHeap?.arrayBuffers),
          maxRss((s) => s.pipelineRss),
          fdPath((s) => s.pipelineFds),
        ],
      ],
    );
    console.log(`\nGrowth is from after the warm-up to after the last phase. RSS sampled every ${sampleIntervalMs} ms from /proc/<pid>/status (${samples.length} samples); the pipeline process found as the bot's child (/proc/<pid>/task/*/children).`);
    console.log('Heap and ArrayBuffers: process.memoryUsage() right after a full GC forced by a probe preloaded into both processes (bench/heap-probe.ts, SIGUSR2); tensors handed to JavaScript are ArrayBuffers, onnxruntime\'s own buffers show only in RSS.');
    console.log('Open fds from /proc/<pid>/fd; "idle" is the last moment, long enough after the last answer for idle HTTP keep-alive connections to close.');

    console.log('\n### Answers and latency\n');
    printTable(
      ['jobs sent', 'images', 'result delivered', 'error replies', 'no answer', 'ack p50 / p99 / max (ms)', 'result p50 / p99 / max (ms)', 'pipeline restarts', 'bot error lines', '429s', 'unexpected requests'],
      [
        [
          String(sent.length),
          String(sent.reduce((sum, job) => sum + job.images, 0)),
          String(delivered),
          String(errors.filter((e) => !e.error?.startsWith('no answer')).length),
          String(errors.filter((e) => e.error?.startsWith('no answer')).length),
          `${fixed(percentile(acks, 50), 0)} / ${fixed(percentile(acks, 99), 0)} / ${fixed(Math.max(...acks), 0)} (${acks.length} acks)`,
          `${fixed(percentile(results, 50), 0)} / ${fixed(percentile(results, 99), 0)} / ${fixed(Math.max(...results), 0)}`,
          String(restarts),
          String(loggedErrors),
          String(rateLimited),
          String(world.discord.unexpectedRequests().length),
        ],
      ],
    );
    for (const error of [...new Set(errors.map((e) => e.error))].slice(0, 5)) console.log(`- not delivered: ${error}`);
    console.log('\nack = INTERACTION_CREATE dispatched by the fake → the bot\'s callback accepted (the fake\'s clock, in this process): the bot\'s event-loop health as Discord would see it (deadline 3000 ms).');
    console.log('result = dispatch → the edit that carried the images (queue wait included; jobs arrive faster than they finish in bursts).');
    console.log(`\nStages per job from the bot's "job finished" lines (median ms): queue wait ${fixed(stage('queueWait'))}, text encode ${fixed(stage('encode'))}, denoise ${fixed(stage('denoise'))}, VAE decode ${fixed(stage('decode'))}, PNG ${fixed(stage('png'))}, upload ${fixed(stage('upload'))} (${finished.length} lines).`);
    console.log(`Bot stopped with SIGTERM in ${fixed(stopMs, 0)} ms: exit ${exit.code ?? exit.signal}.`);
  } finally {
    await world.close();
    rmSync(probeDir, { recursive: true, force: true });
    console.log(`Event-loop delay of this process (fake Discord + soak driver) during the soak: p50 ${fixed(benchLoop.percentile(50) / 1e6, 1)} ms, p99 ${fixed(benchLoop.percentile(99) / 1e6, 1)} ms, max ${fixed(benchLoop.max / 1e6, 1)} ms.`);
    console.log(`Soak wall time ${fixed((performance.now() - sectionStart) / 1000, 1)} s; ${machineLoad()}.`);
  }
}
