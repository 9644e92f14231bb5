import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchParameters, GenerationJob } from '../src/pipeline/stable-diffusion.js';
import { PipelineWorker, type PipelineProcessStatus } from '../src/worker/pipeline-worker.js';
import type { BenchOptions } from './common.js';
import { peakRssMb } from './proc-stats.js';
import { fixed, median, printTable } from './stats.js';

/** One start of the pipeline process as the bot starts it, and the pictures after it. */
interface ReadinessTrace {
  /** Spawn → sessions loaded (the bot connects to Discord from here). */
  readonly loadedMs: number;
  /** Spawn → warm at the default size (`/healthz` 200). */
  readonly readyMs: number;
  readonly warmUpMs: number;
  /** Wall time of: the default size (warm), another size twice (first, then warm). */
  readonly defaultSizeMs: number;
  readonly otherFirstMs: number;
  readonly otherWarmMs: number;
  readonly peakRssMb: number;
}

async function startAndGenerate(options: BenchOptions, cacheDir: string, size: number): Promise<ReadinessTrace> {
  const spawned = performance.now();
  let loadedAt = Number.NaN;
  const worker = await PipelineWorker.launch(
    {
      modelDir: options.model,
      runtime: { ...options.runtime, optimizedModelCacheDir: cacheDir },
      engine: options.engine,
      warmUp: { width: size, height: size, steps: 1 },
    },
    (w) => w.on('stage', (status: PipelineProcessStatus) => status.stage === 'warming' && (loadedAt = performance.now())),
  );
  try {
    const info = await worker.whenReady();
    const readyMs = performance.now() - spawned;
    const lcm = info.description.profile.kind === 'lcm';
    const job: GenerationJob = {
      prompt: 'a lighthouse in a storm',
      negativePrompt: 'blur',
      guidanceScale: lcm ? 8 : 7.5,
      seed: 1,
      numImages: 1,
    };
    const at = async (width: number, height: number, seed: number) => {
      const parameters: BatchParameters = { width, height, numInferenceSteps: options.steps, scheduler: lcm ? 'lcm' : 'euler', rng: 'cpu' };
      const started = performance.now();
      await worker.run([{ ...job, seed }], parameters);
      return performance.now() - started;
    };
    // Another size of the same area class: wider by a quarter (a size people pick next).
    const other = size + (size >> 2);
    const defaultSizeMs = await at(size, size, 1);
    const otherFirstMs = await at(other, size, 2);
    const otherWarmMs = await at(other, size, 3);
    return {
      loadedMs: loadedAt - spawned,
      readyMs,
      warmUpMs: info.warmUpMs ?? 0,
      defaultSizeMs,
      otherFirstMs,
      otherWarmMs,
      peakRssMb: worker.pid === undefined ? Number.NaN : (peakRssMb(worker.pid) ?? Number.NaN),
    };
  } finally {
    await worker.close();
  }
}

/**
 * Section `readiness`: the bot's start of the pipeline process with a real model folder — spawn to loaded (the
 * bot connects then), to ready (warm at the default size), with an empty optimised-graph cache and with a filled
 * one — and what the first picture at another size costs next to a warm one.
 */
export async function readinessSection(options: BenchOptions): Promise<void> {
  const size = options.sizes[0]!;
  console.log(
    `\n## Readiness of the pipeline process (${options.model}; warm-up at ${size}x${size}, then ${options.steps}-step pictures at ${size}x${size} and twice at ${size + (size >> 2)}x${size}; ${options.runs} starts per setting)\n`,
  );
  const empty: ReadinessTrace[] = [];
  const cached: ReadinessTrace[] = [];
  for (let i = 0; i < options.runs; i++) {
    const cacheDir = mkdtempSync(join(tmpdir(), 'latentcord-bench-readiness-'));
    try {
      empty.push(await startAndGenerate(options, cacheDir, size));
      cached.push(await startAndGenerate(options, cacheDir, size));
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  const row = (label: string, traces: readonly ReadinessTrace[]) => {
    const m = (pick: (t: ReadinessTrace) => number) => median(traces.map(pick));
    return [
      label,
      fixed(m((t) => t.loadedMs) / 1000, 1),
      fixed(m((t) => t.warmUpMs) / 1000, 1),
      fixed(m((t) => t.readyMs) / 1000, 1),
      fixed(m((t) => t.defaultSizeMs) / 1000, 2),
      fixed(m((t) => t.otherFirstMs) / 1000, 2),
      fixed(m((t) => t.otherWarmMs) / 1000, 2),
      fixed(
        m((t) => t.otherFirstMs / t.otherWarmMs),
        2,
      ),
      fixed(
        m((t) => t.peakRssMb),
        0,
      ),
    ];
  };
  printTable(
    [
      'optimised-graph cache',
      'spawn → loaded (s)',
      'warm-up (s)',
      'spawn → ready (s)',
      `picture ${size}² (s)`,
      'first at the other size (s)',
      'warm at the other size (s)',
      'first / warm',
      'peak RSS (MiB)',
    ],
    [row('empty (first start)', empty), row('filled (restart)', cached)],
  );
  console.log(
    '\nThe bot connects to Discord once loaded; jobs sent during the warm-up wait for it; /healthz answers 200 from ready. The page cache holds the model files in both rows (the bench does not drop the caches of a shared machine).',
  );
}
