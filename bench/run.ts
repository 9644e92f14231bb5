/**
 * `npm run bench`: generation figures on the tiny fixture model through the same pipeline process the bot
 * uses. Prints medians of several runs; asserts nothing (timings depend on the machine).
 *
 *   node dist/bench/run.js [--runs N] [--sizes 128,256] [--steps 20] [--model DIR] [--sections generation,throughput,startup]
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { BatchParameters, GenerationJob } from '../src/pipeline/stable-diffusion.js';
import { defaultRuntimeOptions } from '../src/runtime/session-factory.js';
import { PipelineWorker } from '../src/worker/pipeline-worker.js';
import { tinyModelDir } from '../test/helpers/fixtures.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '128,256' },
    steps: { type: 'string', default: '20' },
    model: { type: 'string', default: tinyModelDir },
    sections: { type: 'string', default: 'generation' },
  },
});
const runs = Number(values.runs);
const steps = Number(values.steps);
const sizes = values.sizes!.split(',').map(Number);
const sections = new Set(values.sections!.split(','));
const { log: _log, ...runtime } = defaultRuntimeOptions;

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fixed = (x: number, digits = 1) => x.toFixed(digits);

/** Peak resident set size of a process in MiB (Linux: VmHWM). */
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function generationSection(): Promise<void> {
  console.log(`\n## Generation (tiny model, ${steps} steps, euler, CFG 7.5, one image; median of ${runs} runs after 2 warm-up runs)\n`);
  console.log('| size | wall / image (ms) | inside session.run (ms) | overhead / step (ms) | event-loop delay p50 / p99 / max (ms) | pipeline process peak RSS (MiB) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const size of sizes) {
    const worker = await PipelineWorker.start({ modelDir: values.model!, runtime });
    try {
      const job: GenerationJob = { prompt: 'a running dog', negativePrompt: 'blur', guidanceScale: 7.5, seed: 1, numImages: 1 };
      const parameters: BatchParameters = { width: size, height: size, numInferenceSteps: steps, scheduler: 'euler', rng: 'cpu' };
      for (let i = 0; i < 2; i++) await worker.run([job], parameters);
      const wall: number[] = [];
      const model: number[] = [];
      const overhead: number[] = [];
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
        model.push(t.modelMs);
        overhead.push((t.denoiseMs - t.unetMs) / t.steps);
        p50.push(delay.percentile(50) / 1e6);
        p99.push(delay.percentile(99) / 1e6);
        max.push(delay.max / 1e6);
      }
      console.log(
        `| ${size}x${size} | ${fixed(median(wall))} | ${fixed(median(model))} | ${fixed(median(overhead), 3)} | ${fixed(median(p50), 2)} / ${fixed(median(p99), 2)} / ${fixed(median(max), 2)} | ${fixed(peakRssMb(worker.pid), 0)} |`,
      );
    } finally {
      await worker.close();
    }
  }
  console.log('\nOverhead per step = (denoising time − time inside the UNet session.run calls) / steps: scheduler, CFG, scaling, progress messages and the yield between steps.');
  console.log('Event-loop delay is measured on the main (bot) process while the pipeline process generates.');
}

async function main(): Promise<void> {
  console.log(`# latentcord benchmark — node ${process.version}, ${new Date().toISOString()}`);
  if (sections.has('generation')) await generationSection();
}

await main();
