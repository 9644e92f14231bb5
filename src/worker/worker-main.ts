/**
 * The pipeline process. onnxruntime-node's `run()` blocks its JavaScript thread for the whole inference
 * (microsoft/onnxruntime#19611), so the models live in a child process and the bot's event loop (and its
 * Discord heartbeat) stays free. A process rather than a worker thread, because a thread cannot be stopped
 * while a native call runs (terminating it aborts the whole program) and a native crash takes its host
 * down; a process can be killed and replaced. One generation at a time.
 */
import { isPreviewStep, type PreviewDecoder, type PreviewRequest, type RenderedPreview } from '../pipeline/components/previewer.js';
import type {
  BatchParameters,
  BatchResult,
  GenerationHooks,
  GenerationJob,
  GenerationTimings,
  JobResult,
  StableDiffusionPipeline,
} from '../pipeline/stable-diffusion.js';
import { loadEngine, type Engine } from './load-engine.js';
import type { CheckedBatchResult, FromWorker, ToWorker, WorkerStartData } from './protocol.js';
import { serializeError } from './serialize-error.js';

function send(message: FromWorker): void {
  process.send?.(message);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function warmUp(engine: Engine, start: WorkerStartData): Promise<number | undefined> {
  if (!start.warmUp) return undefined;
  const started = performance.now();
  const { width, height, steps } = start.warmUp;
  const { profile } = engine.pipeline.describe();
  const guidanceScale = start.warmUp.guidanceScale ?? profile.recommended?.guidance ?? 7.5;
  const scheduler = profile.recommended?.scheduler ?? 'euler';
  const job = { prompt: '', guidanceScale, seed: 0, numImages: 1 };
  for (let i = 0; i < warmUpRuns(engine.device); i++) {
    await engine.pipeline.generate(job, { width, height, numInferenceSteps: steps, scheduler, rng: 'cpu' });
  }
  return performance.now() - started;
}

/**
 * Generations the warm-up runs. onnxruntime's first run at a new shape allocates and touches its working
 * memory and pages the weights in. On the CPU memory patterns are off (see the runtime's session settings) and
 * the second run is already warm; CUDA keeps onnxruntime's defaults, whose memory patterns are planned over the
 * first two runs at a shape.
 */
function warmUpRuns(device: 'cpu' | 'cuda'): number {
  return device === 'cuda' ? 2 : 1;
}

async function startEngine(start: WorkerStartData): Promise<Engine | undefined> {
  try {
    const engine = await loadEngine(
      start.modelDir,
      { ...start.runtime, log: (level, message, details) => send({ type: 'log', level, message, ...(details ? { details } : {}) }) },
      start.engine ?? {},
    );
    const reason = engine.deviceFallbackReason;
    const facts = {
      description: engine.pipeline.describe(),
      device: engine.device,
      ...(reason ? { deviceFallbackReason: reason } : {}),
      loadMs: engine.loadMs,
      safetyChecker: engine.safetyChecker ? { modelFile: engine.safetyChecker.modelFile, floatType: engine.safetyChecker.floatType } : null,
      ...(engine.safetyCheckerProblem ? { safetyCheckerProblem: engine.safetyCheckerProblem } : {}),
    };
    send({ type: 'loaded', ...facts });
    const warmUpMs = await warmUp(engine, start);
    send({ type: 'ready', ...facts, ...(warmUpMs !== undefined ? { warmUpMs } : {}) });
    return engine;
  } catch (error) {
    send({ type: 'startFailed', error: serializeError(error) });
    return undefined;
  }
}

/**
 * Least time between two progress messages to the main process: each one costs the generating process
 * ~0.1 ms and wakes the bot, while Discord messages change at most every ~1.5 s and a terminal bar looks
 * smooth at 4 updates a second.
 */
const progressIntervalMs = 250;

/**
 * Draws the previews a run asked for, per job. The pipeline's step hook is synchronous, so a due step's
 * latents (its prediction of the clean latents, when the scheduler makes one) are copied there and drawn at
 * the next `betweenSteps`, which is awaited before the next step and before decoding.
 */
class PreviewSender {
  /** The last step's time without preview drawing. */
  private stepMs = 0;
  /** What the last tiny-decoder preview cost per image. */
  private tinyMs = 0;

  constructor(
    private readonly engine: Engine,
    private readonly message: Extract<ToWorker, { type: 'generate' }>,
    private readonly request: PreviewRequest,
  ) {}

  /** Hooks for one UNet batch made of the message's jobs `jobIndices`, in that order. */
  hooksFor(jobIndices: readonly number[]): GenerationHooks {
    const jobs = jobIndices.map((index) => this.message.jobs[index]!);
    let totalSteps = 0;
    let stepStarted = performance.now();
    let pending: { latents: Float32Array; step: number } | undefined;
    const flush = async () => {
      const due = pending;
      if (!due) return;
      pending = undefined;
      const { parameters } = this.message;
      const scale = this.engine.pipeline.folder.vaeScaleFactor;
      const rows = jobs.reduce((sum, job) => sum + job.numImages, 0);
      const dims = [rows, 4, parameters.height / scale, parameters.width / scale] as const;
      const decoder = this.chooseDecoder();
      let row = 0;
      for (const [k, job] of jobs.entries()) {
        const started = performance.now();
        const images: RenderedPreview[] = [];
        for (let i = 0; i < job.numImages; i++) images.push(await this.engine.previewer.render(due.latents, dims, row++, decoder));
        if (decoder === 'tiny') this.tinyMs = (performance.now() - started) / job.numImages;
        send({ type: 'preview', id: this.message.id, preview: { jobIndex: jobIndices[k]!, step: due.step, totalSteps, images } });
      }
      // Drawing is not part of the next step's own time.
      stepStarted = performance.now();
    };
    return {
      onLatentsPrepared: (_latents, timesteps) => {
        totalSteps = timesteps.length;
        stepStarted = performance.now();
      },
      onStepEnd: (index, _timestep, latents, denoised) => {
        const now = performance.now();
        this.stepMs = now - stepStarted;
        stepStarted = now;
        if (isPreviewStep(index + 1, totalSteps, this.request.everySteps))
          pending = { latents: (denoised ?? latents).slice(), step: index + 1 };
      },
      betweenSteps: async () => {
        await flush();
        await yieldToEventLoop();
      },
    };
  }

  /**
   * `auto` draws with the tiny decoder while one picture costs at most a quarter of the steps between two
   * previews (few-step models on a CPU leave it too little time), with the linear map otherwise.
   */
  private chooseDecoder(): PreviewDecoder {
    const asked = this.request.decoder ?? 'auto';
    if (asked !== 'auto') return asked;
    if (!this.engine.previewer.hasTinyDecoder) return 'approx';
    return this.tinyMs <= 0.25 * this.request.everySteps * this.stepMs ? 'tiny' : 'approx';
  }
}

async function generate(engine: Engine, message: Extract<ToWorker, { type: 'generate' }>, cancelled: Set<number>): Promise<void> {
  let lastProgressSent = 0;
  const previews = message.preview && message.preview.everySteps > 0 ? new PreviewSender(engine, message, message.preview) : undefined;
  try {
    const groupHooks = previews ? (indices: readonly number[]) => previews.hooksFor(indices) : undefined;
    const result: BatchResult = await generateInGroups(engine.pipeline, message.jobs, message.parameters, groupHooks, {
      signal: {
        get aborted() {
          return cancelled.has(message.id);
        },
      },
      betweenSteps: yieldToEventLoop,
      keepIntermediates: message.keepIntermediates ?? false,
      onProgress: (progress) => {
        // Each message wakes the main process; at most one per interval (and always the last) keeps the
        // per-step cost low when steps are short. Nobody shows progress faster than this anyway.
        const now = performance.now();
        if (progress.step === progress.totalSteps || progress.step === 1 || now - lastProgressSent >= progressIntervalMs) {
          lastProgressSent = now;
          send({ type: 'progress', id: message.id, progress });
        }
      },
    });
    send({ type: 'result', id: message.id, result: await checkPictures(engine, result) });
  } catch (error) {
    send({ type: 'error', id: message.id, error: serializeError(error) });
  } finally {
    cancelled.delete(message.id);
  }
}

/**
 * Runs the safety checker, when the model has one, on every picture of the batch, one picture per call as
 * diffusers' ONNX pipeline does. A picture the checker fails on is not delivered: the error fails the batch.
 */
async function checkPictures(engine: Engine, result: BatchResult): Promise<CheckedBatchResult> {
  const checker = engine.safetyChecker;
  if (!checker) return result;
  const flagged: boolean[][] = [];
  for (const job of result.jobs) {
    const verdicts: boolean[] = [];
    for (const image of job.images) verdicts.push(await checker.check(image));
    flagged.push(verdicts);
  }
  return { ...result, flagged };
}

/**
 * Runs a batch, split into UNet batches of jobs whose conditionings have equal chunk counts: padding one job's
 * prompt to another's length would change its pictures. The queue forms batches of equal counts already; this keeps
 * the promise (every job gets its solo pictures) whatever it is sent. Progress counts the steps of all groups.
 */
async function generateInGroups(
  pipeline: StableDiffusionPipeline,
  jobs: readonly GenerationJob[],
  parameters: BatchParameters,
  groupHooks: ((jobIndices: readonly number[]) => GenerationHooks) | undefined,
  hooks: GenerationHooks,
): Promise<BatchResult> {
  const groups = new Map<number, number[]>();
  jobs.forEach((job, index) => {
    const chunks = pipeline.conditioningChunks(job);
    groups.set(chunks, [...(groups.get(chunks) ?? []), index]);
  });
  if (groups.size <= 1) return pipeline.generateBatch(jobs, parameters, { ...hooks, ...groupHooks?.(jobs.map((_, i) => i)) });

  const results: JobResult[] = [];
  const timings: GenerationTimings[] = [];
  let stepsBefore = 0;
  let elapsedBefore = 0;
  for (const [groupIndex, indices] of [...groups.values()].entries()) {
    const batch = await pipeline.generateBatch(
      indices.map((i) => jobs[i]!),
      parameters,
      {
        ...hooks,
        ...groupHooks?.(indices),
        onProgress: (progress) =>
          hooks.onProgress?.({
            step: stepsBefore + progress.step,
            // Later groups run as many steps as the first: all share the parameters.
            totalSteps: progress.totalSteps * groups.size,
            elapsedMs: elapsedBefore + progress.elapsedMs,
          }),
      },
    );
    indices.forEach((jobIndex, k) => (results[jobIndex] = batch.jobs[k]!));
    timings.push(batch.timings);
    stepsBefore = (groupIndex + 1) * batch.timings.steps;
    elapsedBefore += batch.timings.totalMs;
  }
  return { jobs: results, timings: sumTimings(timings) };
}

/** The timings of groups run one after another (the step overhead is the steps-weighted mean of their medians). */
function sumTimings(parts: readonly GenerationTimings[]): GenerationTimings {
  const sum = (key: keyof GenerationTimings) => parts.reduce((total, part) => total + part[key], 0);
  const steps = sum('steps');
  return {
    totalMs: sum('totalMs'),
    encodeMs: sum('encodeMs'),
    denoiseMs: sum('denoiseMs'),
    decodeMs: sum('decodeMs'),
    steps,
    unetMs: sum('unetMs'),
    stepOverheadMs: steps > 0 ? parts.reduce((total, part) => total + part.stepOverheadMs * part.steps, 0) / steps : 0,
    modelMs: sum('modelMs'),
  };
}

let engine: Promise<Engine | undefined> | undefined;
let chain: Promise<void> = Promise.resolve();
const cancelled = new Set<number>();

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'start':
      engine ??= startEngine(message.start);
      return;
    case 'cancel':
      cancelled.add(message.id);
      return;
    case 'generate':
      // Strictly one generation after another, even if the next request arrives early.
      chain = chain.then(async () => {
        const loaded = await engine;
        if (loaded) await generate(loaded, message, cancelled);
      });
      return;
  }
});

// The parent owns this process: when it goes away, so do we.
process.on('disconnect', () => process.exit(0));
