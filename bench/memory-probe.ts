/**
 * The process the `memory` section measures: it loads a model folder as the pipeline process does
 * (`loadEngine`) and runs the generations it is asked for, and after every stage reports its own peak resident memory
 * during that stage. Linux keeps one high-water mark per process (VmHWM); writing `5` to
 * /proc/self/clear_refs resets it to the current RSS, so each stage's peak is read from a fresh mark.
 *
 * Input: one JSON argument ({@link ProbeRequest}). Output: one JSON line per stage ({@link StageFigure}) on stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { BatchParameters, GenerationJob } from '../src/pipeline/stable-diffusion.js';
import type { RuntimeOptions } from '../src/runtime/session-factory.js';
import { loadEngine, type EngineOptions } from '../src/worker/load-engine.js';

/** What to measure. */
export interface ProbeRequest {
  readonly model: string;
  readonly runtime: Omit<RuntimeOptions, 'log'>;
  readonly engine?: EngineOptions;
  readonly kind: 'txt2img' | 'img2img';
  readonly steps: number;
  /** The generations after loading, in order; each is reported as its own stages (`gen1 …`, `gen2 …`). */
  readonly generations: readonly { readonly width: number; readonly height: number }[];
}

/** One stage's figures. */
export interface StageFigure {
  readonly stage: string;
  /** Highest RSS during the stage (MiB). */
  readonly peakMb: number;
  /** RSS when the stage ended (MiB). */
  readonly endMb: number;
  /** Of that, anonymous memory (heap, arenas, tensors) and file-backed pages (mapped model files), MiB. */
  readonly anonMb: number;
  readonly fileMb: number;
  readonly ms: number;
  /** CPU time of the whole process (all threads) during the stage: less sensitive to other load than `ms`. */
  readonly cpuMs: number;
  /** CPU time other processes used during the stage, in % of one core (from /proc/stat): how disturbed `ms` is. */
  readonly othersPct: number;
}

function statusKb(field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/self/status`);
  return Number(match[1]);
}

let stageStarted = 0;
let cpuAtStageStart = 0;
let machineAtStageStart = machineBusyMs();

/** CPU time all processes of the machine have used (user, nice, system, irq, softirq, steal), ms. */
function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields as [number, number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq + steal) * 10;
}

function cpuMsNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
/** The high-water mark since process start, kept across the per-stage resets. */
let processPeakKb = 0;

function othersPercent(): number {
  const wall = performance.now() - stageStarted;
  const others = machineBusyMs() - machineAtStageStart - (cpuMsNow() - cpuAtStageStart);
  return wall > 0 ? Math.max(0, (100 * others) / wall) : 0;
}

function endStage(stage: string): void {
  const peakKb = statusKb('VmHWM');
  processPeakKb = Math.max(processPeakKb, peakKb);
  const figure: StageFigure = {
    stage,
    peakMb: peakKb / 1024,
    endMb: statusKb('VmRSS') / 1024,
    anonMb: statusKb('RssAnon') / 1024,
    fileMb: statusKb('RssFile') / 1024,
    ms: performance.now() - stageStarted,
    cpuMs: cpuMsNow() - cpuAtStageStart,
    othersPct: othersPercent(),
  };
  process.stdout.write(`${JSON.stringify(figure)}\n`);
  writeFileSync('/proc/self/clear_refs', '5');
  stageStarted = performance.now();
  cpuAtStageStart = cpuMsNow();
  machineAtStageStart = machineBusyMs();
}

async function main(request: ProbeRequest): Promise<void> {
  // Node, its imports and onnxruntime-node's native library, before any model.
  endStage('process start');
  const engine = await loadEngine(request.model, request.runtime, request.engine ?? {});
  endStage('load sessions');
  const { pipeline } = engine;
  const lcm = pipeline.usesGuidanceEmbedding;
  for (const [index, { width, height }] of request.generations.entries()) {
    const g = index + 1;
    const job: GenerationJob = {
      prompt: 'a lighthouse on a cliff at dawn, oil painting',
      negativePrompt: 'blurry',
      guidanceScale: lcm ? 8 : 7.5,
      seed: g,
      numImages: 1,
      ...(request.kind === 'img2img' ? { initImage: { width, height, pixels: pattern(width, height) } } : {}),
    };
    const parameters: BatchParameters = {
      width,
      height,
      numInferenceSteps: request.steps,
      scheduler: lcm ? 'lcm' : 'euler',
      rng: 'cpu',
      ...(request.kind === 'img2img' ? { strength: 1 } : {}),
    };
    const label = `gen${g} ${width}x${height}`;
    await pipeline.generate(job, parameters, {
      onLatentsPrepared: () => endStage(`${label} ${request.kind === 'img2img' ? 'prompt + VAE encode' : 'prompt'}`),
      onStepEnd: (step) => {
        if (step === 0) endStage(`${label} UNet step 1`);
      },
      onProgress: ({ step, totalSteps }) => {
        if (step === totalSteps && totalSteps > 1) endStage(`${label} UNet steps 2–${totalSteps}`);
      },
    });
    endStage(`${label} VAE decode`);
  }
  const whole: StageFigure = {
    stage: 'process',
    peakMb: processPeakKb / 1024,
    endMb: statusKb('VmRSS') / 1024,
    anonMb: statusKb('RssAnon') / 1024,
    fileMb: statusKb('RssFile') / 1024,
    ms: 0,
    cpuMs: cpuMsNow(),
    othersPct: 0,
  };
  process.stdout.write(`${JSON.stringify(whole)}\n`);
  await pipeline.release();
}

/** A smooth colour pattern in [-1, 1], `[1, 3, height, width]`. */
function pattern(width: number, height: number): Float32Array {
  const pixels = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) pixels[(c * height + y) * width + x] = Math.sin((x * (c + 1)) / 37 + y / 53);
  return pixels;
}

await main(JSON.parse(process.argv[2]!) as ProbeRequest);
