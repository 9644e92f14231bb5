import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, type Failure } from '../../src/errors.js';
import type { BatchEndEvent, BatchStartEvent, JobFinishedEvent } from '../../src/jobs/job-events.js';
import type { Delivery, FinishedJob, JobObserver } from '../../src/jobs/job-observer.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { createLogger } from '../../src/logging/logger.js';
import type { BatchParameters, BatchResult, GenerationJob } from '../../src/pipeline/stable-diffusion.js';
import type { GenerationOptions } from '../../src/settings/index.js';
import { openStore, type JobRecord, type Store } from '../../src/store/index.js';
import type { PipelineWorker, RunOptions } from '../../src/worker/pipeline-worker.js';

/** A parsed pino line. */
export type LogRecord = Record<string, unknown> & { msg?: string; level: number };

/** What the fake pipeline does with the next run. */
export type FakeRun = { kind: 'ok' } | { kind: 'fail'; error: Error } | { kind: 'hold'; release: Promise<void> };

/** Stand-in for the pipeline process: fixed timings, black images, scripted failures. */
export class FakePipeline {
  readonly runs: { jobs: readonly GenerationJob[]; parameters: BatchParameters }[] = [];
  readonly script: FakeRun[] = [];
  static readonly timings = { encodeMs: 11, denoiseMs: 40, decodeMs: 7 };

  async run(jobs: readonly GenerationJob[], parameters: BatchParameters, _options: RunOptions = {}): Promise<BatchResult> {
    this.runs.push({ jobs, parameters });
    const next = this.script.shift() ?? { kind: 'ok' };
    if (next.kind === 'fail') throw next.error;
    if (next.kind === 'hold') await next.release;
    const { encodeMs, denoiseMs, decodeMs } = FakePipeline.timings;
    return {
      jobs: jobs.map((job) => ({
        images: Array.from({ length: job.numImages }, () => ({
          width: parameters.width,
          height: parameters.height,
          rgb: new Uint8Array(parameters.width * parameters.height * 3),
        })),
        prompt: { tokenCount: 3, maxTokens: 225, chunkCount: 1, truncated: false, droppedText: '' },
        negativePrompt: { tokenCount: 0, maxTokens: 225, chunkCount: 1, truncated: false, droppedText: '' },
      })),
      timings: {
        totalMs: encodeMs + denoiseMs + decodeMs,
        encodeMs,
        denoiseMs,
        decodeMs,
        steps: parameters.numInferenceSteps,
        unetMs: denoiseMs,
        stepOverheadMs: 0,
        modelMs: encodeMs + denoiseMs + decodeMs,
      },
    };
  }
}

/** An observer that records what it was told; delivery can be made to fail. */
export class RecordingObserver implements JobObserver {
  readonly delivered: FinishedJob[] = [];
  readonly failures: Failure[] = [];
  deliveryError: Error | undefined;
  queued(): void {}
  started(): void {}
  progress(): void {}
  async deliver(job: FinishedJob): Promise<Delivery> {
    if (this.deliveryError) throw this.deliveryError;
    this.delivered.push(job);
    return { messageId: `m-${job.record.id}`, channelId: job.record.channelId, attachmentUrls: [] };
  }
  async failed(failure: Failure): Promise<void> {
    this.failures.push(failure);
  }
}

/** A job runner on a fake pipeline and a real store, with its log lines and events captured. */
export interface RunnerHarness {
  readonly runner: JobRunner;
  readonly pipeline: FakePipeline;
  readonly store: Store;
  readonly logs: LogRecord[];
  /** Raw log output. */
  readonly output: string[];
  readonly events: { batchStart: BatchStartEvent[]; batchEnd: BatchEndEvent[]; jobFinished: JobFinishedEvent[] };
  submit(
    overrides?: Partial<GenerationOptions> & { userId?: string; guildId?: string | null },
    observer?: JobObserver,
  ): { record: JobRecord; position: number };
  close(): void;
}

/** Starts a runner harness. */
export function runnerHarness(options: { maxQueueLength?: number; maxBatchImages?: number; secrets?: string[] } = {}): RunnerHarness {
  const dataDir = mkdtempSync(join(tmpdir(), 'latentcord-metrics-'));
  const store = openStore(dataDir);
  const logs: LogRecord[] = [];
  const output: string[] = [];
  const logger = createLogger({
    level: 'debug',
    secrets: options.secrets ?? [],
    destination: {
      write(line: string) {
        output.push(line);
        logs.push(JSON.parse(line) as LogRecord);
      },
    },
  });
  const pipeline = new FakePipeline();
  const runner = new JobRunner({
    pipeline: pipeline as unknown as PipelineWorker,
    store,
    logger: logger.child({ module: 'jobs' }),
    maxQueueLength: options.maxQueueLength ?? 10,
    maxBatchImages: options.maxBatchImages ?? 1,
    rng: 'cpu',
    modelName: 'fake',
  });
  const events: RunnerHarness['events'] = { batchStart: [], batchEnd: [], jobFinished: [] };
  runner.on('batchStart', (event) => events.batchStart.push(event));
  runner.on('batchEnd', (event) => events.batchEnd.push(event));
  runner.on('jobFinished', (event) => events.jobFinished.push(event));
  return {
    runner,
    pipeline,
    store,
    logs,
    output,
    events,
    submit(overrides = {}, observer = new RecordingObserver()) {
      const { userId = '111111111111111111', guildId = '222222222222222222', ...generation } = overrides;
      return runner.submit(
        {
          job: {
            kind: 'imagine',
            userId,
            guildId,
            channelId: '333333333333333333',
            prompt: 'a lighthouse',
            negativePrompt: '',
            emphasis: 'original',
            maxPromptTokens: 225,
            steps: 3,
            guidance: 7.5,
            width: 8,
            height: 8,
            scheduler: 'euler',
            count: 1,
            seed: '1',
            strength: 0.7,
            sourceImageUrl: null,
            ...generation,
          },
        },
        observer,
      );
    },
    close() {
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A promise and the function that settles it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A UserError as the pipeline process reports a crash. */
export const crashError = () =>
  new UserError('worker.crashed', 'The image generator crashed while working on this job and has been restarted. Please try again.');
