import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchParameters, GenerationJob } from '../src/pipeline/stable-diffusion.js';
import { PipelineWorker, type PipelineWorkerOptions } from '../src/worker/pipeline-worker.js';
import type { BenchOptions } from './common.js';
import { cpuSeconds } from './proc-stats.js';
import { fixed, median, printTable } from './stats.js';

/** Side of the square images generated after start-up (and of the warm-up run, as the bot warms up at its default size). */
const size = 128;
/** Generations timed after each start: the first two show the cold-kernel cost, the rest the warm speed. */
const generationsPerStart = 5;

/** Figures of one start of the pipeline process and the generations after it. */
interface StartTrace {
  /** `PipelineWorker.start` until it resolved (process spawn, imports, model load, warm-up). */
  readonly readyMs: number;
  /** Reading the folder and creating the sessions, as the pipeline process measured it. */
  readonly loadMs: number;
  readonly warmUpMs: number;
  /** CPU time the pipeline process used until ready (all its threads). */
  readonly cpuToReadyMs: number;
  /** Wall time of each generation after ready, in order. */
  readonly generationMs: readonly number[];
  /** Pixels of the first generation (the same job after every start). */
  readonly firstImage: Uint8Array;
}

async function startAndGenerate(options: BenchOptions, warmUp: boolean, optimizedModelCacheDir?: string): Promise<StartTrace> {
  const start: PipelineWorkerOptions = {
    modelDir: options.model,
    runtime: { ...options.runtime, optimizedModelCacheDir },
    // As the bot does with `runtime.warmUp`: one step at the default size, run twice by the pipeline process.
    warmUp: warmUp ? { width: size, height: size, steps: 1 } : undefined,
  };
  const started = performance.now();
  const worker = await PipelineWorker.start(start);
  const readyMs = performance.now() - started;
  const cpuToReadyMs = 1000 * (cpuSeconds(worker.pid ?? -1) ?? Number.NaN);
  try {
    const job: GenerationJob = { prompt: 'a lighthouse in a storm', negativePrompt: 'blur', guidanceScale: 7.5, seed: 3, numImages: 1 };
    const parameters: BatchParameters = { width: size, height: size, numInferenceSteps: options.steps, scheduler: 'euler', rng: 'cpu' };
    const generationMs: number[] = [];
    let firstImage: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < generationsPerStart; i++) {
      const t0 = performance.now();
      const result = await worker.run([{ ...job, seed: i }], parameters);
      generationMs.push(performance.now() - t0);
      if (i === 0) firstImage = result.jobs[0]!.images[0]!.rgb;
    }
    return { readyMs, loadMs: worker.info.loadMs, warmUpMs: worker.info.warmUpMs ?? 0, cpuToReadyMs, generationMs, firstImage };
  } finally {
    await worker.close();
  }
}

/** Largest difference between two images' pixel values (Infinity when their sizes differ). */
function maxPixelDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/**
 * Section `startup`: start-to-ready of the pipeline process (spawn, imports, sessions, warm-up) for the first
 * start in this process and for restarts, and what the first generation costs with and without warm-up.
 */
export async function startupSection(options: BenchOptions): Promise<void> {
  const { runs, steps } = options;
  console.log(
    `\n## Start-up of the pipeline process (PipelineWorker.start → ready; then ${generationsPerStart} generations at ` +
      `${size}x${size}, ${steps} steps, euler, CFG 7.5; ${runs} starts per setting)\n`,
  );
  const cold: StartTrace[] = [];
  const warm: StartTrace[] = [];
  const cacheFirst: StartTrace[] = [];
  const cacheHit: StartTrace[] = [];
  for (let i = 0; i < runs; i++) {
    // Settings alternate, so that load from other processes on the machine hits them alike.
    cold.push(await startAndGenerate(options, false));
    warm.push(await startAndGenerate(options, true));
    const cacheDir = mkdtempSync(join(tmpdir(), 'latentcord-bench-ort-cache-'));
    try {
      cacheFirst.push(await startAndGenerate(options, false, cacheDir));
      cacheHit.push(await startAndGenerate(options, false, cacheDir));
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  const first = cold[0]!;
  const restarts = cold.slice(1);
  const processMs = (t: StartTrace) => t.readyMs - t.loadMs - t.warmUpMs;
  const startRow = (label: string, traces: readonly StartTrace[]) => [
    label,
    String(traces.length),
    fixed(median(traces.map((t) => t.readyMs))),
    fixed(median(traces.map(processMs))),
    fixed(median(traces.map((t) => t.loadMs))),
    fixed(median(traces.map((t) => t.warmUpMs))),
    fixed(median(traces.map((t) => t.cpuToReadyMs)), 0),
  ];
  printTable(
    [
      'start',
      'starts',
      'ready (ms)',
      'process spawn + imports + messages (ms)',
      'model folder + sessions (ms)',
      'warm-up (ms)',
      'pipeline process CPU to ready (ms)',
    ],
    [
      startRow('first start in this bench process, no warm-up ("cold")', [first]),
      startRow('later starts, no warm-up ("warm": files and node_modules in the page cache)', restarts),
      startRow(`starts with runtime.warmUp (${size}x${size}, 1 step, twice)`, warm),
      startRow('optimised-graph cache: first start (empty cache: optimise + save)', cacheFirst),
      startRow('optimised-graph cache: restart (cached graphs, optimisation off)', cacheHit),
    ],
  );
  console.log(
    '\n"cold" is only the first start of this process: the model files and node_modules are in the page cache either way (the bench ' +
      'does not drop the caches of a shared machine). Wall times follow other load on the machine; the CPU column much less.',
  );
  console.log(
    'Model folder + sessions and warm-up are measured inside the pipeline process; the rest of ready is spawning node, importing ' +
      'onnxruntime-node and the messages.',
  );
  const pixelDiff = Math.max(...cacheHit.map((t, i) => maxPixelDiff(t.firstImage, cold[i]!.firstImage)));
  console.log(
    `Optimised-graph cache (runtime.cacheOptimizedModels → RuntimeOptions.optimizedModelCacheDir), a fresh folder per pair of starts: ` +
      `model load ${fixed(median(cacheFirst.map((t) => t.loadMs)))} ms on the first start → ` +
      `${fixed(median(cacheHit.map((t) => t.loadMs)))} ms on the cached restart ` +
      `(${fixed(median(cold.map((t) => t.loadMs)))} ms without a cache); warm generation ` +
      `${fixed(median(cacheHit.map((t) => median(t.generationMs.slice(2)))))} ms with cached graphs vs ` +
      `${fixed(median(cold.map((t) => median(t.generationMs.slice(2)))))} ms without; first image after a cached restart vs without ` +
      `cache: max pixel difference ${pixelDiff}.`,
  );

  console.log(`\n### First generation after start-up (median over starts)\n`);
  const generationRow = (label: string, traces: readonly StartTrace[]) => {
    const firstRun = median(traces.map((t) => t.generationMs[0]!));
    const secondRun = median(traces.map((t) => t.generationMs[1]!));
    const warmRun = median(traces.map((t) => median(t.generationMs.slice(2))));
    return [
      label,
      fixed(median(traces.map((t) => t.readyMs))),
      fixed(firstRun),
      fixed(secondRun),
      fixed(warmRun),
      `${fixed(firstRun - warmRun)} (${fixed(firstRun / warmRun, 2)}×)`,
      fixed(median(traces.map((t) => t.readyMs + t.generationMs[0]!))),
    ];
  };
  printTable(
    [
      'runtime.warmUp',
      'ready (ms)',
      '1st generation (ms)',
      '2nd generation (ms)',
      `warm generation (median of 3rd–${generationsPerStart}th, ms)`,
      '1st − warm (ms)',
      'start → first image (ms)',
    ],
    [generationRow('false', cold), generationRow('true', warm), generationRow('false, cached graphs (restart)', cacheHit)],
  );
  console.log(
    "\nWith warm-up the cold-kernel cost moves from the first user's generation into start-up (before the bot connects to Discord).",
  );
  console.log(
    'These are tiny-model figures; for a full-size SD 1.5 folder issue 4 quotes 40–55 s of session creation on 2 cores. Run with ' +
      '--model DIR for a real folder.',
  );
}
