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
const sampleIntervalMs = 500;
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

/** Memory and handles of both processes at one quiet moment. */
interface Snapshot {
  readonly label: string;
  readonly jobsSent: number;
  readonly botRss: number | undefined;
  readonly pipelineRss: number | undefined;
  readonly botFds: FdCounts | undefined;
  readonly pipelineFds: FdCounts | undefined;
  /** Highest RSS sampled since the previous snapshot. */
  readonly botRssMax: number;
  readonly pipelineRssMax: number;
  readonly seconds: number;
}

function pipelinePidOf(botPid: number): number | undefined {
  const children = childPids(botPid);
  return children.length === 1 ? children[0] : undefined;
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
  const world = await startBotWorld({ config: soakConfig, env: { LATENTCORD_LOG_LEVEL: 'info' } });
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
    const snapshot = (label: string) => {
      sample();
      const pipelinePid = pipelinePidOf(botPid);
      const since = samples.slice(samplesSeen);
      samplesSeen = samples.length;
      const now = performance.now();
      snapshots.push({
        label,
        jobsSent: sent.length,
        botRss: rssMb(botPid),
        pipelineRss: pipelinePid === undefined ? undefined : rssMb(pipelinePid),
        botFds: openFds(botPid),
        pipelineFds: pipelinePid === undefined ? undefined : openFds(pipelinePid),
        botRssMax: Math.max(...since.map((s) => s.botRss ?? Number.NaN).filter(Number.isFinite)),
        pipelineRssMax: Math.max(...since.map((s) => s.pipelineRss ?? Number.NaN).filter(Number.isFinite)),
        seconds: (now - lastSnapshotAt) / 1000,
      });
      lastSnapshotAt = now;
    };

    try {
      await sleep(settleMs);
      snapshot('connected, before any job');
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
        snapshot(phase === 0 ? `warm-up (${count} jobs)` : `phase ${phase} (${count} jobs)`);
      }
    } finally {
      clearInterval(sampler);
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

    console.log('### Memory and handles (idle samples after each phase, 2 s after its last answer)\n');
    printTable(
      ['moment', 'jobs sent', 'phase (s)', 'bot RSS (MiB)', 'bot RSS max in phase', 'pipeline RSS (MiB)', 'pipeline RSS max in phase', 'bot open fds', 'pipeline open fds'],
      snapshots.map((s) => [s.label, String(s.jobsSent), fixed(s.seconds, 1), mib(s.botRss), mib(s.botRssMax), mib(s.pipelineRss), mib(s.pipelineRssMax), fdText(s.botFds), fdText(s.pipelineFds)]),
    );
    const plateau = snapshots[1]!;
    const end = snapshots[snapshots.length - 1]!;
    const growth = (from: number | undefined, to: number | undefined) => `${signed((to ?? Number.NaN) - (from ?? Number.NaN), 1)} MiB (${signed((100 * ((to ?? Number.NaN) - (from ?? Number.NaN))) / (from ?? Number.NaN), 1)} %)`;
    const fdGrowth = (from: FdCounts | undefined, to: FdCounts | undefined) => signed((to?.total ?? Number.NaN) - (from?.total ?? Number.NaN), 0);
    console.log('');
    printTable(
      ['process', 'RSS after warm-up (MiB)', 'RSS at end (MiB)', 'growth warm-up → end', 'max RSS sampled (MiB)', 'open fds start → after warm-up → end', 'fd growth warm-up → end'],
      [
        [
          `bot (pid ${botPid})`,
          mib(plateau.botRss),
          mib(end.botRss),
          growth(plateau.botRss, end.botRss),
          mib(Math.max(...samples.map((s) => s.botRss ?? Number.NaN).filter(Number.isFinite))),
          `${snapshots[0]!.botFds?.total ?? '–'} → ${plateau.botFds?.total ?? '–'} → ${end.botFds?.total ?? '–'}`,
          fdGrowth(plateau.botFds, end.botFds),
        ],
        [
          `pipeline (pid ${[...pipelinePids].join(', ') || '?'})`,
          mib(plateau.pipelineRss),
          mib(end.pipelineRss),
          growth(plateau.pipelineRss, end.pipelineRss),
          mib(Math.max(...samples.map((s) => s.pipelineRss ?? Number.NaN).filter(Number.isFinite))),
          `${snapshots[0]!.pipelineFds?.total ?? '–'} → ${plateau.pipelineFds?.total ?? '–'} → ${end.pipelineFds?.total ?? '–'}`,
          fdGrowth(plateau.pipelineFds, end.pipelineFds),
        ],
      ],
    );
    console.log(`\nRSS sampled every ${sampleIntervalMs} ms from /proc/<pid>/status (${samples.length} samples); the pipeline process found as the bot's child (/proc/<pid>/task/*/children).`);

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
    console.log(`Soak wall time ${fixed((performance.now() - sectionStart) / 1000, 1)} s; ${machineLoad()}.`);
  }
}
