import type { BatchParameters, GenerationJob } from '../src/pipeline/stable-diffusion.js';
import { PipelineWorker } from '../src/worker/pipeline-worker.js';
import type { BenchOptions } from './common.js';
import { fixed, median, printTable } from './stats.js';

/** A weighted prompt of the kind people paste, long enough for `chunks` chunks of 75 tokens (no cut at 225). */
function promptOfChunks(chunks: number): string {
  // "(tree N," is 3 tokens (the digit is its own token), so 24 items nearly fill a chunk: 71 and 215 tokens.
  const items = Array.from({ length: 24 * chunks }, (_, i) => `(tree ${i % 10}:1.1)`);
  return items.join(', ');
}

/**
 * Section `prompts`: what a long prompt costs. Every chunk adds 77 keys to each UNet cross-attention, so a step
 * with a 3-chunk prompt (231 text tokens) against a 1-chunk one (77): UNet time per step, text encoding, and
 * the ratio. Runs alternate between the two prompts so machine load affects both alike.
 */
export async function promptLengthSection({ runs, steps, sizes, model, runtime }: BenchOptions): Promise<void> {
  console.log(`\n## Prompt length (${steps} steps, euler, CFG 7.5, emphasis original; median of ${runs} runs after 2 warm-up runs each)\n`);
  const rows: string[][] = [];
  for (const size of sizes) {
    const worker = await PipelineWorker.start({ modelDir: model, runtime });
    try {
      const parameters: BatchParameters = { width: size, height: size, numInferenceSteps: steps, scheduler: 'euler', rng: 'cpu' };
      const jobs = [1, 3].map(
        (chunks): GenerationJob => ({ prompt: promptOfChunks(chunks), negativePrompt: 'blur', guidanceScale: 7.5, seed: 1, numImages: 1 }),
      );
      for (const job of jobs) for (let i = 0; i < 2; i++) await worker.run([job], parameters);
      const unetPerStep: number[][] = [[], []];
      const stepWall: number[][] = [[], []];
      const encode: number[][] = [[], []];
      const chunkCounts = [0, 0];
      for (let i = 0; i < runs; i++) {
        for (const [j, job] of jobs.entries()) {
          const result = await worker.run([{ ...job, seed: i }], parameters);
          const t = result.timings;
          chunkCounts[j] = result.jobs[0]!.prompt.chunkCount;
          unetPerStep[j]!.push(t.unetMs / t.steps);
          stepWall[j]!.push(t.denoiseMs / t.steps);
          encode[j]!.push(t.encodeMs);
        }
      }
      const [one, three] = unetPerStep.map(median) as [number, number];
      rows.push([
        `${size}x${size}`,
        `${chunkCounts[0]} / ${chunkCounts[1]}`,
        `${fixed(one, 2)} / ${fixed(three, 2)}`,
        fixed(three / one, 2),
        `${fixed(median(stepWall[0]!), 2)} / ${fixed(median(stepWall[1]!), 2)}`,
        `${fixed(median(encode[0]!), 2)} / ${fixed(median(encode[1]!), 2)}`,
      ]);
    } finally {
      await worker.close();
    }
  }
  printTable(
    [
      'size',
      'chunks (1-chunk / 3-chunk prompt)',
      'UNet ms / step',
      'ratio',
      'denoising ms / step',
      'prompt encoding ms (with the negative prompt, and the empty chunk where padding is needed)',
    ],
    rows,
  );
  console.log('\nUNet ms / step = time inside session.run during the denoising loop ÷ steps (one CFG batch of 2 rows per step);');
  console.log('ratio = 3-chunk ÷ 1-chunk. Run with --model DIR to measure a real model.');
}
