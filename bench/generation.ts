import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BatchParameters, GenerationJob } from '../src/pipeline/stable-diffusion.js';
import { PipelineWorker } from '../src/worker/pipeline-worker.js';
import type { BenchOptions } from './common.js';
import { peakRssMb } from './proc-stats.js';
import { fixed, median, printTable } from './stats.js';

/**
 * Section `generation`: wall time of one image per size, time inside `session.run`, per-step overhead,
 * event-loop delay of the main process while the pipeline process works, and the pipeline process's peak RSS.
 */
export async function generationSection({ runs, steps, sizes, model, runtime, engine }: BenchOptions): Promise<void> {
  console.log(`\n## Generation (${steps} steps, euler, CFG 7.5, one image; median of ${runs} runs after 2 warm-up runs)\n`);
  const rows: string[][] = [];
  for (const size of sizes) {
    const worker = await PipelineWorker.start({ modelDir: model, runtime, engine });
    try {
      const job: GenerationJob = { prompt: 'a running dog', negativePrompt: 'blur', guidanceScale: 7.5, seed: 1, numImages: 1 };
      const parameters: BatchParameters = { width: size, height: size, numInferenceSteps: steps, scheduler: 'euler', rng: 'cpu' };
      for (let i = 0; i < 2; i++) await worker.run([job], parameters);
      const wall: number[] = [];
      const modelMs: number[] = [];
      const overhead: number[] = [];
      const loopOverhead: number[] = [];
      const p50: number[] = [];
      const p99: number[] = [];
      const max: number[] = [];
      for (let i = 0; i < runs; i++) {
        const delay = monitorEventLoopDelay({ resolution: 1 });
        delay.enable();
        const started = performance.now();
        const result = await worker.run([{ ...job, seed: i }], parameters);
        wall.push(performance.now() - started);
        delay.disable();
        const t = result.timings;
        modelMs.push(t.modelMs);
        overhead.push(t.stepOverheadMs);
        loopOverhead.push((t.denoiseMs - t.unetMs) / t.steps);
        p50.push(delay.percentile(50) / 1e6);
        p99.push(delay.percentile(99) / 1e6);
        max.push(delay.max / 1e6);
      }
      rows.push([
        `${size}x${size}`,
        fixed(median(wall)),
        fixed(median(modelMs)),
        fixed(median(overhead), 3),
        fixed(median(loopOverhead), 3),
        `${fixed(median(p50), 2)} / ${fixed(median(p99), 2)} / ${fixed(median(max), 2)}`,
        fixed(worker.pid === undefined ? Number.NaN : (peakRssMb(worker.pid) ?? Number.NaN), 0),
      ]);
    } finally {
      await worker.close();
    }
  }
  printTable(
    [
      'size',
      'wall / image (ms)',
      'inside session.run (ms)',
      'overhead / step, median (ms)',
      'incl. loop set-up (ms)',
      'event-loop delay p50 / p99 / max (ms)',
      'pipeline process peak RSS (MiB)',
    ],
    rows,
  );
  console.log(
    '\nOverhead / step = median over the steps of (step time − time inside session.run): scheduler, CFG, scaling, progress messages ' +
      'and the yield between steps.',
  );
  console.log(
    'incl. loop set-up = (denoising time − UNet session.run time) / steps, i.e. also the scheduler set-up and initial noise spread ' +
      'over the steps.',
  );
  console.log('Event-loop delay is measured on the main (bot) process while the pipeline process generates.');
}
