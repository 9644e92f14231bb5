import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobObserver } from '../src/jobs/job-observer.js';
import { JobRunner, type JobRequest } from '../src/jobs/job-runner.js';
import { createLogger } from '../src/logging/logger.js';
import { openStore, type Store } from '../src/store/index.js';
import { PipelineWorker } from '../src/worker/pipeline-worker.js';
import type { BenchOptions } from './common.js';
import { cpuSeconds } from './proc-stats.js';
import { fixed, median, printTable } from './stats.js';

/** Side of the square images of this section. */
const size = 128;
/** Jobs queued at once. */
const depths = [1, 2, 4] as const;
/** Passes over every scenario before measuring: onnxruntime's first two runs at a new batch shape are slow. */
const warmUpPasses = 2;

type Mode = 'batched' | 'single';
type Scenario = 'burst' | 'backlog';

/** One UNet batch as the queue ran it (times from `performance.now()`). */
interface BatchTrace {
  readonly jobIds: readonly string[];
  readonly start: number;
  /** CPU seconds used so far by the pipeline process and this process together, at `start`. */
  readonly cpuAtStart: number;
  end: number;
}

/** A JobRunner with its own pipeline process and SQLite store, and what happened on it. */
interface Rig {
  readonly mode: Mode;
  readonly runner: JobRunner;
  readonly worker: PipelineWorker;
  readonly store: Store;
  readonly batches: BatchTrace[];
  readonly deliveredAt: Map<string, number>;
  readonly outDir: string;
  nextSeed: number;
}

/** One measured run: N jobs from submission (or pick-up) to the last delivery. */
interface RunTrace {
  readonly elapsedMs: number;
  /** CPU seconds (pipeline process + this process) over the same interval. */
  readonly cpuSeconds: number;
  readonly shape: string;
  readonly batches: readonly BatchTrace[];
}

async function openRig(mode: Mode, options: BenchOptions, root: string): Promise<Rig> {
  const dir = join(root, mode);
  const outDir = join(dir, 'out');
  mkdirSync(outDir, { recursive: true });
  const store = openStore(dir);
  const worker = await PipelineWorker.start({ modelDir: options.model, runtime: options.runtime });
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const runner = new JobRunner({
    pipeline: worker,
    store,
    logger,
    maxQueueLength: 100,
    maxBatchImages: mode === 'batched' ? 4 : 1,
    rng: 'cpu',
    modelName: 'bench',
  });
  const rig: Rig = { mode, runner, worker, store, batches: [], deliveredAt: new Map(), outDir, nextSeed: 1 };
  runner.on('batchStart', ({ jobs }) => {
    rig.batches.push({ jobIds: jobs.map((job) => job.id), start: performance.now(), cpuAtStart: cpuNow(rig), end: Number.NaN });
  });
  runner.on('batchEnd', ({ jobs }) => {
    const trace = rig.batches.findLast((b) => b.jobIds[0] === jobs[0]?.id);
    if (trace) trace.end = performance.now();
  });
  return rig;
}

/** CPU seconds used so far by the rig's pipeline process and by this process (which encodes the PNGs). */
function cpuNow(rig: Rig): number {
  const usage = process.cpuUsage();
  return (cpuSeconds(rig.worker.pid ?? -1) ?? Number.NaN) + (usage.user + usage.system) / 1e6;
}

async function closeRig(rig: Rig): Promise<void> {
  await rig.runner.idle();
  await rig.worker.close();
  rig.store.close();
}

/**
 * Queues one job; resolves with its id once delivered. Delivery writes the PNGs to disk, standing in for the
 * upload (the soak section measures real uploads to the fake Discord).
 */
function submit(rig: Rig, steps: number): { id: string; done: Promise<void> } {
  const seed = rig.nextSeed++;
  const request: JobRequest = {
    job: {
      kind: 'imagine',
      userId: `user-${seed % 7}`,
      guildId: 'bench-guild',
      channelId: 'bench-channel',
      prompt: `a lighthouse in a storm, number ${seed}`,
      negativePrompt: 'blur',
      emphasis: 'original',
      maxPromptTokens: 225,
      steps,
      guidance: 7.5,
      width: size,
      height: size,
      scheduler: 'euler',
      count: 1,
      seed: String(seed),
      strength: 0.7,
      sourceImageUrl: null,
    },
  };
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const observer: JobObserver = {
    queued: () => undefined,
    started: () => undefined,
    progress: () => undefined,
    deliver: async (job) => {
      await Promise.all(job.pngs.map((png, i) => writeFile(join(rig.outDir, `${job.record.id}-${i}.png`), png)));
      rig.deliveredAt.set(job.record.id, performance.now());
      settle.resolve();
      return { messageId: job.record.id, channelId: job.record.channelId, attachmentUrls: [] };
    },
    failed: async (failure) => settle.reject(new Error(failure.message)),
  };
  const { record } = rig.runner.submit(request, observer);
  return { id: record.id, done };
}

/**
 * `burst`: N jobs arrive at an idle runner in the same tick (the first starts at once, as in the bot);
 * timed from submission to the last delivery. `backlog`: N jobs wait behind a running job; timed from the
 * moment the pipeline picks the first of them up to the last delivery.
 */
async function measure(rig: Rig, scenario: Scenario, n: number, steps: number): Promise<RunTrace> {
  await rig.runner.idle();
  const firstBatch = rig.batches.length;
  const submittedAt = performance.now();
  const cpuAtSubmission = cpuNow(rig);
  const primer = scenario === 'backlog' ? submit(rig, steps) : undefined;
  const jobs = Array.from({ length: n }, () => submit(rig, steps));
  await Promise.all([primer?.done, ...jobs.map((job) => job.done)]);
  await rig.runner.idle();
  const ids = new Set(jobs.map((job) => job.id));
  const batches = rig.batches.slice(firstBatch);
  const measured = batches.filter((batch) => batch.jobIds.some((id) => ids.has(id)));
  const start = scenario === 'burst' ? submittedAt : measured[0]!.start;
  const cpuAtStart = scenario === 'burst' ? cpuAtSubmission : measured[0]!.cpuAtStart;
  const end = Math.max(...jobs.map((job) => rig.deliveredAt.get(job.id)!));
  return {
    elapsedMs: end - start,
    cpuSeconds: cpuNow(rig) - cpuAtStart,
    shape: measured.map((batch) => batch.jobIds.length).join('+'),
    batches,
  };
}

/** How much of one batch's PNG encoding and delivery ran while the next batch was denoising. */
interface OverlapFigures {
  readonly deliveryMs: number[];
  readonly overlapFraction: number[];
  readonly gapMs: number[];
}

function overlapOf(rig: Rig, runs: readonly RunTrace[]): OverlapFigures {
  const figures: OverlapFigures = { deliveryMs: [], overlapFraction: [], gapMs: [] };
  for (const run of runs) {
    for (let k = 0; k + 1 < run.batches.length; k++) {
      const current = run.batches[k]!;
      const next = run.batches[k + 1]!;
      const deliveryEnd = Math.max(...current.jobIds.map((id) => rig.deliveredAt.get(id)!));
      const delivery = deliveryEnd - current.end;
      const overlap = Math.max(0, Math.min(deliveryEnd, next.end) - Math.max(current.end, next.start));
      figures.deliveryMs.push(delivery);
      figures.overlapFraction.push(delivery > 0 ? overlap / delivery : 1);
      figures.gapMs.push(next.start - current.end);
    }
  }
  return figures;
}

/** Medians of the per-job stage durations the runner stored (ms). */
function storedStages(rig: Rig, ids: Iterable<string>): { png: number; upload: number } {
  const png: number[] = [];
  const upload: number[] = [];
  for (const id of ids) {
    const stages = rig.store.getJob(id)?.stageDurations ?? {};
    if (stages['png'] !== undefined) png.push(stages['png']);
    if (stages['upload'] !== undefined) upload.push(stages['upload']);
  }
  return { png: median(png), upload: median(upload) };
}

/** Pipeline stages of one batch (shared by its jobs, stored with each), by batch size. */
function pipelineStagesBySize(
  rigs: readonly Rig[],
  traces: readonly RunTrace[][],
): Map<number, { encode: number[]; denoise: number[]; decode: number[] }> {
  const bySize = new Map<number, { encode: number[]; denoise: number[]; decode: number[] }>();
  rigs.forEach((rig, r) => {
    for (const trace of traces[r]!) {
      for (const batch of trace.batches) {
        const stages = rig.store.getJob(batch.jobIds[0]!)?.stageDurations ?? {};
        if (stages['denoise'] === undefined) continue;
        const entry = bySize.get(batch.jobIds.length) ?? { encode: [], denoise: [], decode: [] };
        entry.encode.push(stages['encode'] ?? 0);
        entry.denoise.push(stages['denoise']);
        entry.decode.push(stages['decode'] ?? 0);
        bySize.set(batch.jobIds.length, entry);
      }
    }
  });
  return bySize;
}

/**
 * Section `throughput`: images per minute with 1, 2 and 4 jobs queued at once, compatible jobs batched into
 * one UNet run (`maxBatchImages` 4) against one at a time (`maxBatchImages` 1), through the bot's own
 * JobRunner, PipelineWorker and SQLite store; and how far delivery overlaps the next batch's denoising.
 */
export async function throughputSection(options: BenchOptions): Promise<void> {
  const { runs, steps } = options;
  console.log(
    `\n## Throughput (${size}x${size}, ${steps} steps, euler, CFG 7.5, one image per job; JobRunner + PipelineWorker + SQLite; ` +
      `median of ${runs} runs after ${warmUpPasses} warm-up passes)\n`,
  );
  const root = mkdtempSync(join(tmpdir(), 'latentcord-bench-throughput-'));
  const rigs: Rig[] = [];
  try {
    for (const mode of ['batched', 'single'] as const) rigs.push(await openRig(mode, options, root));
    const results = new Map<string, RunTrace[]>();
    const key = (mode: Mode, scenario: Scenario, n: number) => `${mode}:${scenario}:${n}`;
    for (let pass = 0; pass < warmUpPasses + runs; pass++) {
      // Modes alternate within each pass so that load from other processes on the machine hits both alike.
      for (const scenario of ['burst', 'backlog'] as const) {
        for (const n of depths) {
          for (const rig of rigs) {
            const trace = await measure(rig, scenario, n, steps);
            if (pass < warmUpPasses) continue;
            const list = results.get(key(rig.mode, scenario, n)) ?? [];
            list.push(trace);
            results.set(key(rig.mode, scenario, n), list);
          }
        }
      }
    }

    const traces = (mode: Mode, scenario: Scenario, n: number) => results.get(key(mode, scenario, n)) ?? [];
    const perMinute = (mode: Mode, scenario: Scenario, n: number) =>
      median(traces(mode, scenario, n).map((t) => (n * 60_000) / t.elapsedMs));
    const cpuPerImage = (mode: Mode, scenario: Scenario, n: number) =>
      median(traces(mode, scenario, n).map((t) => (1000 * t.cpuSeconds) / n));
    const shapes = (mode: Mode, scenario: Scenario, n: number) => [...new Set(traces(mode, scenario, n).map((t) => t.shape))].join(', ');
    const rows: string[][] = [];
    for (const scenario of ['burst', 'backlog'] as const) {
      for (const n of depths) {
        const batched = perMinute('batched', scenario, n);
        const single = perMinute('single', scenario, n);
        const batchedCpu = cpuPerImage('batched', scenario, n);
        const singleCpu = cpuPerImage('single', scenario, n);
        rows.push([
          scenario,
          String(n),
          fixed(batched, 0),
          fixed(batchedCpu, 0),
          shapes('batched', scenario, n),
          fixed(single, 0),
          fixed(singleCpu, 0),
          shapes('single', scenario, n),
          `${fixed(batched / single, 2)}×`,
          `${fixed(singleCpu / batchedCpu, 2)}×`,
        ]);
      }
    }
    printTable(
      [
        'scenario',
        'jobs queued',
        'batched: img/min',
        'CPU ms/img',
        'UNet batches',
        'one at a time: img/min',
        'CPU ms/img',
        'UNet batches',
        'img/min batched ÷ one at a time',
        'CPU/img one at a time ÷ batched',
      ],
      rows,
    );
    console.log(
      '\nburst: N jobs reach an idle runner in the same tick; the first starts at once (as in the bot), the rest are batched when the ' +
        'pipeline frees; timed from submission to the last delivery.',
    );
    console.log(
      'backlog: N jobs wait behind a running job; timed from the moment the pipeline takes the first of them to the last delivery.',
    );
    console.log('UNet batches: jobs per pipeline run, in order (e.g. 1+3); with CFG each image is two UNet rows.');
    console.log(
      'CPU ms/img: CPU time of the pipeline process and of the main process (job runner, PNG encoding) over the same interval, per ' +
        'image; it depends less on other load on the machine than wall time.',
    );

    console.log('\n### Pipeline time per image by UNet batch size (every measured batch of both modes; CFG doubles the UNet rows)\n');
    const allTraces = rigs.map((rig) => [...results].filter(([k]) => k.startsWith(`${rig.mode}:`)).flatMap(([, list]) => list));
    const bySize = pipelineStagesBySize(rigs, allTraces);
    const perImage = (size: number) => {
      const entry = bySize.get(size)!;
      return (median(entry.encode) + median(entry.denoise) + median(entry.decode)) / size;
    };
    const single = bySize.has(1) ? perImage(1) : Number.NaN;
    printTable(
      [
        'images per batch',
        'batches',
        'text encode / batch (ms)',
        'denoise / batch (ms)',
        'VAE decode / batch (ms)',
        'pipeline ms per image',
        'speed-up per image vs 1',
      ],
      [...bySize.keys()]
        .sort((a, b) => a - b)
        .map((size) => {
          const entry = bySize.get(size)!;
          return [
            String(size),
            String(entry.denoise.length),
            fixed(median(entry.encode)),
            fixed(median(entry.denoise)),
            fixed(median(entry.decode)),
            fixed(perImage(size)),
            `${fixed(single / perImage(size), 2)}×`,
          ];
        }),
    );

    console.log("\n### PNG encoding + delivery of one batch vs the next batch's denoising (backlog runs with 2 and 4 jobs)\n");
    const overlapRows: string[][] = [];
    for (const rig of rigs) {
      const traces = [...(results.get(key(rig.mode, 'backlog', 2)) ?? []), ...(results.get(key(rig.mode, 'backlog', 4)) ?? [])];
      const figures = overlapOf(rig, traces);
      const ids = traces.flatMap((t) => t.batches.flatMap((b) => b.jobIds));
      const stages = storedStages(rig, ids);
      overlapRows.push([
        rig.mode === 'batched' ? 'batched (4)' : 'one at a time (1)',
        String(figures.deliveryMs.length),
        fixed(stages.png, 2),
        fixed(stages.upload, 2),
        fixed(median(figures.deliveryMs), 2),
        `${fixed(100 * median(figures.overlapFraction), 0)} % (min ${fixed(100 * Math.min(...figures.overlapFraction), 0)} %)`,
        fixed(median(figures.gapMs), 2),
      ]);
    }
    printTable(
      [
        'maxBatchImages',
        'batch pairs',
        'PNG encode / job (ms)',
        'delivery / job (ms)',
        'result → last delivery of batch (ms)',
        'of which during next denoise',
        'pipeline idle between batches (ms)',
      ],
      overlapRows,
    );
    console.log(
      '\nPNG encode and delivery are the stage durations the runner stored per job; "during next denoise" is the share of the interval ' +
        "from a batch's result to its last delivery that lies inside the next batch's pipeline run.",
    );
    console.log('Pipeline idle = next batch start − previous batch end, as the queue saw them (main process).');
  } finally {
    for (const rig of rigs) await closeRig(rig).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}
