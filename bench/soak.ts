import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
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
/** Measured phases after the warm-up, each ending with an idle snapshot. */
const measuredPhases = 3;
/** Requests sent in the same instant once per phase, from different users (a rush after an announcement). */
const rushSize = 12;
/**
 * Quiet time before each snapshot: longer than Node's HTTP keep-alive timeout (5 s), so idle REST connections
 * have closed, and long enough for V8's idle memory reducer to run; every snapshot is then taken alike.
 */
const settleMs = 10_000;
const sampleIntervalMs = 500;
/** Longest wait for one job's answer. */
const answerTimeoutMs = 300_000;
/** Preloaded into the bot and pipeline processes: forced GC, memory figures and event-loop delay on SIGUSR2. */
const heapProbe = fileURLToPath(new URL('./heap-probe.js', import.meta.url));

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
  /** Resolves once the bot answered with the result or an error (or never did). */
  readonly answer: Promise<{ delivered: boolean; error?: string }>;
}

/** One /proc sample of the bot and its pipeline process. */
interface Sample {
  readonly at: number;
  readonly botRss: number | undefined;
  readonly pipelinePid: number | undefined;
  readonly pipelineRss: number | undefined;
}

/** What the probe reports: memory after a full GC (MiB) and event-loop delay since its previous report (ms). */
interface ProbeReading {
  readonly heapUsed: number;
  /** Heap the V8 holds (used or not), and the part of it that is the young generation. */
  readonly heapTotal: number;
  readonly newSpace: number;
  readonly arrayBuffers: number;
  readonly loop: { readonly p50: number; readonly p99: number; readonly max: number };
}

/** One phase of the soak: its busy interval and the quiet snapshot after it. */
interface Snapshot {
  readonly label: string;
  readonly jobsSent: number;
  /** From the phase's first request to its last answer (s); 0 for the snapshot before any job. */
  readonly busySeconds: number;
  /** RSS samples taken while the phase was busy. */
  readonly busy: readonly Sample[];
  readonly botRss: number | undefined;
  readonly pipelineRss: number | undefined;
  readonly botFds: FdCounts | undefined;
  readonly pipelineFds: FdCounts | undefined;
  readonly bot: ProbeReading | undefined;
  readonly pipeline: ProbeReading | undefined;
}

function pipelinePidOf(botPid: number): number | undefined {
  const children = childPids(botPid);
  return children.length === 1 ? children[0] : undefined;
}

/** Asks the probes of these processes for their figures; waits up to 3 s for the answers. */
async function probe(file: string, pids: readonly (number | undefined)[]): Promise<(ProbeReading | undefined)[]> {
  const askedAt = Date.now();
  for (const pid of pids) if (pid !== undefined) process.kill(pid, 'SIGUSR2');
  const readings = new Map<number, ProbeReading>();
  const deadline = performance.now() + 3000;
  while (performance.now() < deadline) {
    await sleep(50);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const entry = JSON.parse(line) as {
        pid: number;
        at: number;
        heapUsed: number;
        heapTotal: number;
        newSpace: number;
        arrayBuffers: number;
        loop: ProbeReading['loop'];
      };
      if (entry.at < askedAt) continue;
      const mb = (bytes: number) => bytes / 2 ** 20;
      readings.set(entry.pid, {
        heapUsed: mb(entry.heapUsed),
        heapTotal: mb(entry.heapTotal),
        newSpace: mb(entry.newSpace),
        arrayBuffers: mb(entry.arrayBuffers),
        loop: entry.loop,
      });
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
    options: {
      prompt: `soak job ${index}: a lighthouse in a storm, oil painting`,
      seed: String(Math.floor(random() * 2 ** 32)),
      steps,
      count: images,
    },
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
const finite = (values: readonly (number | undefined)[]) => values.filter((v): v is number => v !== undefined && Number.isFinite(v));
const heapText = (reading: ProbeReading | undefined) =>
  reading
    ? `${fixed(reading.heapUsed, 1)} / ${fixed(reading.heapTotal, 1)} (young ${fixed(reading.newSpace, 1)}) / ` +
      `${fixed(reading.arrayBuffers, 2)}`
    : '–';
/** RSS outside the V8 heap: native allocations (onnxruntime, sharp, SQLite, buffers), code and stacks. */
const nonHeap = (rss: number | undefined, reading: ProbeReading | undefined) => (rss ?? Number.NaN) - (reading?.heapTotal ?? Number.NaN);
const fdText = (fds: FdCounts | undefined) =>
  fds ? `${fds.total} (${fds.sockets} sock, ${fds.pipes} pipe, ${fds.anonInodes} anon, ${fds.files} file)` : '–';
const loopText = (reading: ProbeReading | undefined) =>
  reading ? `${fixed(reading.loop.p50, 0)} / ${fixed(reading.loop.p99, 0)} / ${fixed(reading.loop.max, 0)}` : '–';
const growth = (from: number | undefined, to: number | undefined) => {
  const delta = (to ?? Number.NaN) - (from ?? Number.NaN);
  return `${signed(delta, 1)} MiB (${signed((100 * delta) / (from ?? Number.NaN), 1)} %)`;
};

function phaseSizesFor(total: number): number[] {
  const warmUpJobs = Math.max(1, Math.round(total * warmUpShare));
  const each = Math.round((total - warmUpJobs) / measuredPhases);
  const sizes = [warmUpJobs];
  for (let i = 1; i < measuredPhases; i++) sizes.push(each);
  sizes.push(total - sizes.reduce((a, b) => a + b, 0));
  return sizes;
}

/**
 * Section `soak`: jobs through the real bot process against the fake Discord (several users, a seeded mix of
 * trickle, bursts and one rush per phase). Samples RSS of the bot and of its pipeline process from /proc while
 * busy; at a quiet moment after each phase takes RSS, open file descriptors, and (through a preloaded probe)
 * heap after a forced GC and event-loop delay of both processes; times interaction acknowledgements.
 */
export async function soakSection(options: BenchOptions): Promise<void> {
  const total = options.soakJobs;
  const phaseSizes = phaseSizesFor(total);
  console.log(
    `\n## Soak (${total} /imagine jobs through the real bot process against the fake Discord; tiny model, 64x64, ` +
      `4 steps (10 % with 6), 15 % with 2 images, euler, CFG 7.5, maxBatchImages 4; ${userCount} users round robin, ` +
      `30–300 ms apart or (30 %) at once, plus a rush of ${rushSize} at once mid-phase; ` +
      `phases of ${phaseSizes.join(', ')} jobs, each followed by ${settleMs / 1000} s of quiet and a snapshot)\n`,
  );

  const sectionStart = performance.now();
  const probeDir = mkdtempSync(join(tmpdir(), 'latentcord-bench-soak-'));
  const probeFile = join(probeDir, 'probe.jsonl');
  const benchLoop = monitorEventLoopDelay({ resolution: 5 });
  let world: BotWorld;
  try {
    world = await startBotWorld({
      config: soakConfig,
      env: { LATENTCORD_LOG_LEVEL: 'info', NODE_OPTIONS: `--import=${heapProbe}`, LATENTCORD_BENCH_PROBE_FILE: probeFile },
    });
  } catch (error) {
    rmSync(probeDir, { recursive: true, force: true });
    throw error;
  }
  const botPid = world.bot.process.pid!;
  const samples: Sample[] = [];
  const snapshots: Snapshot[] = [];
  const sent: SentJob[] = [];
  try {
    const users: ApiUser[] = [world.alice, world.bob, world.admin];
    for (let i = users.length; i < userCount; i++) {
      const user = world.discord.createUser({ username: `soak-user-${i}` });
      world.discord.addMember(world.guild.id, user.id);
      users.push(user);
    }
    const sample = () => {
      const pipelinePid = pipelinePidOf(botPid);
      samples.push({
        at: performance.now(),
        botRss: rssMb(botPid),
        pipelinePid,
        pipelineRss: pipelinePid === undefined ? undefined : rssMb(pipelinePid),
      });
    };
    const snapshot = async (label: string, busyFrom: number, busyTo: number) => {
      const pipelinePid = pipelinePidOf(botPid);
      const [bot, pipeline] = await probe(probeFile, [botPid, pipelinePid]);
      snapshots.push({
        label,
        jobsSent: sent.length,
        busySeconds: (busyTo - busyFrom) / 1000,
        busy: samples.filter((s) => s.at >= busyFrom && s.at <= busyTo),
        botRss: rssMb(botPid),
        pipelineRss: pipelinePid === undefined ? undefined : rssMb(pipelinePid),
        botFds: openFds(botPid),
        pipelineFds: pipelinePid === undefined ? undefined : openFds(pipelinePid),
        bot,
        pipeline,
      });
    };

    sample();
    const sampler = setInterval(sample, sampleIntervalMs);
    benchLoop.enable();
    try {
      await sleep(settleMs);
      await snapshot('connected, before any job', 0, 0);
      const random = seededRandom(4);
      for (const [phase, count] of phaseSizes.entries()) {
        const busyFrom = performance.now();
        const phaseJobs: SentJob[] = [];
        const rushStart = Math.floor(count / 2);
        for (let i = 0; i < count; i++) {
          const job = sendImagine(world, users[sent.length % users.length]!, random, sent.length);
          sent.push(job);
          phaseJobs.push(job);
          const inRush = i >= rushStart && i < rushStart + rushSize - 1;
          const gap = inRush || random() < 0.3 ? 0 : 30 + random() * 270;
          if (gap > 0) await sleep(gap);
        }
        await Promise.all(phaseJobs.map((job) => job.answer));
        const busyTo = performance.now();
        await sleep(settleMs);
        await snapshot(phase === 0 ? `warm-up (${count} jobs)` : `phase ${phase} (${count} jobs)`, busyFrom, busyTo);
      }
    } finally {
      clearInterval(sampler);
      benchLoop.disable();
    }
    const stopStarted = performance.now();
    const exit = await world.stopBot();
    const stopMs = performance.now() - stopStarted;

    console.log(
      `### Memory (quiet moments: ${settleMs / 1000} s after a phase's last answer; heap and ArrayBuffers right after a forced full GC)\n`,
    );
    const busyMedian = (s: Snapshot, pick: (sample: Sample) => number | undefined) => mib(median(finite(s.busy.map(pick))));
    const busyMax = (s: Snapshot, pick: (sample: Sample) => number | undefined) => mib(Math.max(...finite(s.busy.map(pick))));
    printTable(
      [
        'after',
        'jobs sent',
        'busy (s)',
        'bot RSS busy: median / max (MiB)',
        'bot RSS quiet (MiB)',
        'bot heap used / held / ArrayBuffers (MiB)',
        'bot RSS − heap held',
        'pipeline RSS busy: median / max (MiB)',
        'pipeline RSS quiet (MiB)',
        'pipeline heap used / held / ArrayBuffers (MiB)',
        'pipeline RSS − heap held',
      ],
      snapshots.map((s) => [
        s.label,
        String(s.jobsSent),
        fixed(s.busySeconds, 1),
        s.busy.length ? `${busyMedian(s, (x) => x.botRss)} / ${busyMax(s, (x) => x.botRss)}` : '–',
        mib(s.botRss),
        heapText(s.bot),
        mib(nonHeap(s.botRss, s.bot)),
        s.busy.length ? `${busyMedian(s, (x) => x.pipelineRss)} / ${busyMax(s, (x) => x.pipelineRss)}` : '–',
        mib(s.pipelineRss),
        heapText(s.pipeline),
        mib(nonHeap(s.pipelineRss, s.pipeline)),
      ]),
    );

    console.log(
      '\n### Handles and event loops (open fds from /proc/<pid>/fd at the quiet moments; event-loop delay of each process over the ' +
        'phase and its quiet time, p50 / p99 / max ms, 10 ms resolution; the first row includes start-up)\n',
    );
    printTable(
      ['after', 'bot open fds', 'pipeline open fds', 'bot event-loop delay', 'pipeline event-loop delay'],
      snapshots.map((s) => [s.label, fdText(s.botFds), fdText(s.pipelineFds), loopText(s.bot), loopText(s.pipeline)]),
    );

    const start = snapshots[0]!;
    const plateau = snapshots[1]!;
    const firstMeasured = snapshots[2] ?? plateau;
    const end = snapshots[snapshots.length - 1]!;
    const pipelinePids = new Set(finite(samples.map((s) => s.pipelinePid)));
    console.log('\n### Growth to the end, from the warm-up plateau and from the end of phase 1\n');
    type Side = 'bot' | 'pipeline';
    const rssOf = (s: Snapshot, side: Side) => (side === 'bot' ? s.botRss : s.pipelineRss);
    const probeOf = (s: Snapshot, side: Side) => (side === 'bot' ? s.bot : s.pipeline);
    const fdsOf = (s: Snapshot, side: Side) => (side === 'bot' ? s.botFds : s.pipelineFds);
    const growthRow = (side: Side, from: Snapshot) => {
      const to = end;
      const pick = (sample: Sample) => (side === 'bot' ? sample.botRss : sample.pipelineRss);
      return [
        `${side === 'bot' ? `bot (pid ${botPid})` : `pipeline (pid ${[...pipelinePids].join(', ') || '?'})`}, from ${from.label}`,
        `${mib(rssOf(from, side))} → ${mib(rssOf(to, side))}`,
        growth(rssOf(from, side), rssOf(to, side)),
        growth(probeOf(from, side)?.heapUsed, probeOf(to, side)?.heapUsed),
        growth(probeOf(from, side)?.heapTotal, probeOf(to, side)?.heapTotal),
        growth(nonHeap(rssOf(from, side), probeOf(from, side)), nonHeap(rssOf(to, side), probeOf(to, side))),
        growth(probeOf(from, side)?.arrayBuffers, probeOf(to, side)?.arrayBuffers),
        from.busy.length ? growth(median(finite(from.busy.map(pick))), median(finite(to.busy.map(pick)))) : '–',
        mib(Math.max(...finite(samples.map(pick)))),
        [start, from, to].map((s) => fdsOf(s, side)?.total ?? '–').join(' → '),
      ];
    };
    printTable(
      [
        'process, from',
        'quiet RSS (MiB)',
        'quiet RSS growth',
        'heap used after GC growth',
        'heap held growth',
        'RSS − heap held growth',
        'ArrayBuffers after GC growth',
        'busy RSS median growth',
        'max RSS sampled (MiB)',
        'open fds: start → from → end',
      ],
      [growthRow('bot', plateau), growthRow('bot', firstMeasured), growthRow('pipeline', plateau), growthRow('pipeline', firstMeasured)],
    );
    console.log(
      `\nRSS from /proc/<pid>/status every ${sampleIntervalMs} ms (${samples.length} samples); the pipeline process is the bot's ` +
        `child (/proc/<pid>/task/*/children).`,
    );
    console.log(
      'Heap, ArrayBuffers and event-loop delay come from a probe preloaded into both processes (bench/heap-probe.ts; SIGUSR2 → full GC ' +
        '→ process.memoryUsage()).',
    );
    console.log(
      '"used" is what survives the GC (a JavaScript leak grows it); "held" is what V8 keeps from the OS, young generation included (V8 ' +
        'grows the young generation up to 32 MiB under a high allocation rate and shrinks it when idle; it counts in RSS). RSS − heap ' +
        'held is native memory, code and stacks.',
    );
    console.log(
      "Tensors handed to JavaScript are ArrayBuffers; onnxruntime's own buffers show only in RSS. The pipeline process blocks its " +
        'event loop inside session.run by design.',
    );

    const answers = await Promise.all(sent.map((job) => job.answer));
    const delivered = answers.filter((a) => a.delivered).length;
    const errors = answers.filter((a) => !a.delivered);
    const noAnswer = errors.filter((e) => e.error?.startsWith('no answer')).length;
    const acks = finite(sent.map((job) => ackLatency(job.handle)));
    const edits = sent.map((job) => job.handle.steps.filter((step) => step.kind === 'originalEdited').length);
    const results = finite(sent.map((job) => resultLatency(job.handle)));
    const finished = world.bot.logs.filter((line) => line.msg === 'job finished');
    const stage = (name: string) => median(finite(finished.map((line) => (line['stages'] as Record<string, number> | undefined)?.[name])));
    const restarts = world.bot.logs.filter((line) => line.msg === 'pipeline process restarted').length;
    const loggedErrors = world.bot.logs.filter((line) => line.level >= 50).length;
    const requests = world.discord.requests.filter((r) => r.kind === 'rest');
    const rateLimited = requests.filter((r) => r.status === 429).length;
    const byRoute = new Map<string, number>();
    for (const request of requests) byRoute.set(request.route ?? request.path, (byRoute.get(request.route ?? request.path) ?? 0) + 1);
    const uploads = requests.filter((r) => r.files.length > 0).map((r) => r.durationMs);

    console.log('\n### Answers and latency\n');
    printTable(
      [
        'jobs sent',
        'images',
        'result delivered',
        'error replies',
        'no answer',
        'ack p50 / p99 / max (ms)',
        'result p50 / p99 / max (ms)',
        'pipeline restarts',
        'bot error lines',
        '429s',
        'unexpected requests',
      ],
      [
        [
          String(sent.length),
          String(sent.reduce((sum, job) => sum + job.images, 0)),
          String(delivered),
          String(errors.length - noAnswer),
          String(noAnswer),
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
    console.log(
      "\nack = INTERACTION_CREATE dispatched by the fake → the bot's callback accepted, on the fake's clock (Discord's deadline: 3000 " +
        'ms). The fake runs in this process, so its own delays count too.',
    );
    console.log(
      'result = dispatch → the edit that carried the images (queue wait included: in bursts and rushes jobs arrive faster than they ' +
        'finish).',
    );
    console.log(
      `\nStages per job from the bot's "job finished" lines (median ms): queue wait ${fixed(stage('queueWait'))}, text encode ` +
        `${fixed(stage('encode'))}, denoise ${fixed(stage('denoise'))}, VAE decode ${fixed(stage('decode'))}, PNG ` +
        `${fixed(stage('png'))}, upload ${fixed(stage('upload'))} (${finished.length} lines).`,
    );
    console.log(
      `REST requests to the fake: ${requests.length} (${fixed(requests.length / sent.length, 1)} per job): ` +
        [...byRoute]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([route, count]) => `${route} ${count}`)
          .join(', ') +
        `; edits of a job's reply (queue position, progress, result) p50 ${fixed(percentile(edits, 50), 0)} / max ${Math.max(...edits)}` +
        `; the fake took p50 ${fixed(percentile(uploads, 50), 0)} / p99 ${fixed(percentile(uploads, 99), 0)} ms to answer the ` +
        `${uploads.length} requests with files.`,
    );
    console.log(
      `Event-loop delay of this process (fake Discord + soak driver) over the soak: p50 ${fixed(benchLoop.percentile(50) / 1e6, 1)} ` +
        `ms, p99 ${fixed(benchLoop.percentile(99) / 1e6, 1)} ms, max ${fixed(benchLoop.max / 1e6, 1)} ms.`,
    );
    console.log(`Bot stopped with SIGTERM in ${fixed(stopMs, 0)} ms: exit ${exit.code ?? exit.signal}.`);
  } finally {
    await world.close();
    rmSync(probeDir, { recursive: true, force: true });
    console.log(`Soak wall time ${fixed((performance.now() - sectionStart) / 1000, 1)} s; ${machineLoad()}.`);
  }
}
