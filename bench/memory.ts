import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pipelineProcessEnv } from '../src/worker/pipeline-worker.js';
import type { BenchOptions } from './common.js';
import type { ProbeRequest, StageFigure } from './memory-probe.js';
import { fixed, median, printTable } from './stats.js';

const probeScript = fileURLToPath(new URL('./memory-probe.js', import.meta.url));

/** Runs one probe process and collects its stage figures. */
async function probe(request: ProbeRequest): Promise<StageFigure[]> {
  const child = spawn(process.execPath, [probeScript, JSON.stringify(request)], {
    env: pipelineProcessEnv(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`memory probe exited with code ${code} (${request.kind})`);
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as StageFigure);
}

/**
 * Section `memory`: peak resident memory of a pipeline process per stage (loading the sessions, prompt
 * encoding, the first UNet step, the other steps, VAE decode; VAE encode for image-to-image), for two
 * generations in a fresh process per run (the first at a size pays for onnxruntime's first-run allocations).
 */
export async function memorySection({ runs, steps, sizes, model, runtime, engine }: BenchOptions): Promise<void> {
  console.log(
    `\n## Memory: peak RSS of the pipeline process per stage (${model}; ${steps} steps; a fresh process per run, median of ${runs} runs)\n`,
  );
  for (const size of sizes) {
    for (const kind of ['txt2img', 'img2img'] as const) {
      const traces: StageFigure[][] = [];
      for (let i = 0; i < runs; i++) {
        const generation = { width: size, height: size };
        traces.push(await probe({ model, runtime, engine, kind, steps, generations: [generation, generation] }));
      }
      console.log(`\n### ${kind}, ${size}x${size}\n`);
      const stages = traces[0]!.map((figure) => figure.stage);
      printTable(
        [
          'stage',
          'peak RSS during the stage (MiB)',
          'RSS after (MiB)',
          'of which anonymous / file-backed (MiB)',
          'time (ms)',
          'CPU time (ms)',
          'other processes (% of a core)',
        ],
        stages.map((stage) => {
          const figures = traces.map((trace) => trace.find((f) => f.stage === stage)!).filter(Boolean);
          return [
            stage === 'process' ? '**whole process**' : stage,
            fixed(median(figures.map((f) => f.peakMb)), 0),
            fixed(median(figures.map((f) => f.endMb)), 0),
            `${fixed(median(figures.map((f) => f.anonMb)), 0)} / ${fixed(median(figures.map((f) => f.fileMb)), 0)}`,
            stage === 'process' ? '' : fixed(median(figures.map((f) => f.ms)), 0),
            fixed(median(figures.map((f) => f.cpuMs)), 0),
            stage === 'process' ? '' : fixed(median(figures.map((f) => f.othersPct)), 0),
          ];
        }),
      );
    }
  }
  console.log(
    '\nPeak RSS per stage: Linux high-water mark (VmHWM), reset at the start of each stage through /proc/self/clear_refs. The probe loads the folder as the pipeline process does (loadEngine, the same runtime options and environment). File-backed pages are model weights onnxruntime maps from disk: they count in RSS, and the kernel can drop and re-read them under memory pressure.',
  );
}
