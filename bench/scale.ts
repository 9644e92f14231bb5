/**
 * `--sections scale`: the same jobs through the local pipeline process and through remote workers on a real
 * `redis-server` — images per minute with one and two workers (each a `latentcord worker` process on one
 * onnxruntime thread), the scaling efficiency, and what the Redis path adds to each job (queue hop, PNG
 * transfer) against the local one, with where a job's time goes. Medians of `--runs` runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineBackend } from '../src/backends/index.js';
import { LocalBackend } from '../src/backends/index.js';
import type { JobObserver } from '../src/jobs/job-observer.js';
import { JobRunner, type JobRequest } from '../src/jobs/job-runner.js';
import { createLogger } from '../src/logging/logger.js';
import { RedisBackend } from '../src/scale/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { PipelineWorker } from '../src/worker/pipeline-worker.js';
import { startRedis, type RedisServer } from '../test/helpers/redis-server.js';
import { startWorker, type WorkerProcess } from '../test/scale/worker-process.js';
import type { BenchOptions } from './common.js';
import { machineLoad } from './proc-stats.js';
import { fixed, median, printTable } from './stats.js';

/** Side of the square images; steps come from `--steps`. */
const size = 128;
/** Jobs per throughput run (enough for several per worker). */
const throughputJobs = 12;
/** Jobs per latency run, one at a time. */
const latencyJobs = 8;
const prefix = 'bench';

interface Rig {
  readonly name: string;
  readonly runner: JobRunner;
  readonly store: Store;
  readonly backend: PipelineBackend;
  nextSeed: number;
}

/** A job's figures: from submission to delivery, and the stages the runner stored. */
interface JobTrace {
  readonly latencyMs: number;
  readonly pipelineMs: number;
  readonly pngMs: number;
}

function openRig(name: string, backend: PipelineBackend, dir: string): Rig {
  const store = openStore(join(dir, name));
  const runner = new JobRunner({
    pipeline: backend,
    store,
    logger: createLogger({ level: 'warn', destination: process.stderr }),
    maxQueueLength: 100,
    // One job per UNet batch: this section measures how jobs spread, not batching (see `throughput`).
    maxBatchImages: 1,
    rng: 'cpu',
    modelName: 'bench',
  });
  return { name, runner, store, backend, nextSeed: 1 };
}

/** Queues one job; resolves with its figures once delivered (delivery only notes the time). */
function submit(rig: Rig, steps: number): Promise<JobTrace> {
  const seed = rig.nextSeed++;
  const request: JobRequest = {
    job: {
      kind: 'imagine',
      userId: `user-${seed}`,
      guildId: 'bench-guild',
      channelId: 'bench-channel',
      prompt: `a lighthouse in a storm, number ${seed}`,
      negativePrompt: '',
      steps,
      guidance: 7.5,
      width: size,
      height: size,
      scheduler: 'euler',
      count: 1,
      seed: String(seed),
      strength: 0.7,
      sourceImageUrl: null,
      emphasis: 'original',
      maxPromptTokens: 225,
    },
  };
  const submittedAt = performance.now();
  return new Promise<JobTrace>((resolve, reject) => {
    let jobId = '';
    const observer: JobObserver = {
      queued: () => undefined,
      started: () => undefined,
      progress: () => undefined,
      deliver: async (job) => {
        const latencyMs = performance.now() - submittedAt;
        // Stages are stored when the job settles, right after this returns.
        setImmediate(() => {
          const stages = rig.store.getJob(jobId)?.stageDurations ?? {};
          resolve({
            latencyMs,
            pipelineMs: (stages['encode'] ?? 0) + (stages['denoise'] ?? 0) + (stages['decode'] ?? 0),
            pngMs: stages['png'] ?? Number.NaN,
          });
        });
        return { messageId: job.record.id, channelId: job.record.channelId, attachmentUrls: [] };
      },
      failed: async (failure) => reject(new Error(failure.message)),
    };
    jobId = rig.runner.submit(request, observer).record.id;
  });
}

/** `n` jobs queued at once; images per minute from submission to the last delivery. */
async function throughput(rig: Rig, n: number, steps: number): Promise<number> {
  await rig.runner.idle();
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, () => submit(rig, steps)));
  return (n / (performance.now() - started)) * 60_000;
}

/** `n` jobs one after another on an idle pipeline. */
async function latencies(rig: Rig, n: number, steps: number): Promise<JobTrace[]> {
  const traces: JobTrace[] = [];
  for (let i = 0; i < n; i++) {
    await rig.runner.idle();
    traces.push(await submit(rig, steps));
  }
  return traces;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function scaleSection(options: BenchOptions): Promise<void> {
  const steps = options.steps;
  console.log(`\n## Scaling out: local pipeline vs remote workers through Redis (${size}×${size}, ${steps} steps, 1 thread each)`);
  const dir = mkdtempSync(join(tmpdir(), 'latentcord-bench-scale-'));
  const runtime = { ...options.runtime, intraOpThreads: 1 };
  let redis: RedisServer | undefined;
  const workers: WorkerProcess[] = [];
  const rigs: Rig[] = [];
  try {
    redis = await startRedis();
    const local = openRig('local', new LocalBackend(await PipelineWorker.start({ modelDir: options.model, runtime })), dir);
    rigs.push(local);
    const startRemoteWorker = async (name: string) => {
      workers.push(
        await startWorker({
          name,
          redisUrl: redis!.url,
          modelDir: options.model,
          config: { scale: { prefix } },
        }),
      );
    };
    await startRemoteWorker('bench-1');
    const backend = await RedisBackend.start({
      redisUrl: redis.url,
      prefix,
      modelDir: options.model,
      heartbeatSeconds: 1,
      lostJobGraceSeconds: 60,
      resultTtlSeconds: 600,
      logger: createLogger({ level: 'warn', destination: process.stderr }),
    });
    const remote = openRig('redis', backend, dir);
    rigs.push(remote);
    await waitFor(() => backend.refusal() === undefined && backend.capacity === 1, 'the worker is seen');

    // Warm-up: onnxruntime's first runs at a new shape are slow, in every pipeline process.
    await throughput(local, 2, steps);
    await throughput(remote, 2, steps);

    const latencyRows: { local: JobTrace[]; remote: JobTrace[] } = { local: [], remote: [] };
    const ipm1: number[] = [];
    const ipmLocal: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      // Interleaved, so drifting load affects both paths alike.
      latencyRows.local.push(...(await latencies(local, Math.ceil(latencyJobs / options.runs) + 1, steps)));
      latencyRows.remote.push(...(await latencies(remote, Math.ceil(latencyJobs / options.runs) + 1, steps)));
      ipmLocal.push(await throughput(local, throughputJobs, steps));
      ipm1.push(await throughput(remote, throughputJobs, steps));
    }
    // The local rig's process would compete with the two workers for the two cores: stop it first.
    await local.runner.idle();
    await local.backend.close();
    local.store.close();
    rigs.splice(rigs.indexOf(local), 1);

    await startRemoteWorker('bench-2');
    await waitFor(() => backend.capacity === 2, 'both workers are seen');
    await throughput(remote, 2, steps); // warm the second worker
    const ipm2: number[] = [];
    for (let run = 0; run < options.runs; run++) ipm2.push(await throughput(remote, throughputJobs, steps));

    console.log(`\nImages per minute, ${throughputJobs} jobs queued at once (median of ${options.runs} runs):\n`);
    const one = median(ipm1);
    const two = median(ipm2);
    printTable(
      ['path', 'images/min', 'vs local'],
      [
        ['local pipeline process', fixed(median(ipmLocal)), '1.00'],
        ['Redis, 1 worker', fixed(one), fixed(one / median(ipmLocal), 2)],
        ['Redis, 2 workers', fixed(two), fixed(two / median(ipmLocal), 2)],
      ],
    );
    console.log(`\nScaling efficiency (2 workers ÷ twice 1 worker): ${fixed((two / (2 * one)) * 100)} %`);

    const summary = (traces: JobTrace[]) => {
      const latency = median(traces.map((t) => t.latencyMs));
      const pipeline = median(traces.map((t) => t.pipelineMs));
      const png = median(traces.map((t) => t.pngMs));
      const rest = median(traces.map((t) => t.latencyMs - t.pipelineMs - t.pngMs));
      return { latency, pipeline, png, rest };
    };
    const l = summary(latencyRows.local);
    const r = summary(latencyRows.remote);
    console.log(`\nOne job at a time on an idle pipeline, per job (median of ${latencyRows.local.length} jobs each, ms):\n`);
    printTable(
      ['path', 'submit → delivered', 'pipeline (encode+denoise+decode)', 'PNG encoding', 'everything else'],
      [
        ['local', fixed(l.latency), fixed(l.pipeline), fixed(l.png), fixed(l.rest)],
        ['Redis, 1 worker', fixed(r.latency), fixed(r.pipeline), fixed(r.png), fixed(r.rest)],
      ],
    );
    console.log(
      `\nAdded latency of the Redis path: ${fixed(r.latency - l.latency)} ms per job (median difference); of which outside the pipeline and PNG encoding (queue hop, progress, PNG transfer, clean-up): ${fixed(r.rest - l.rest)} ms.`,
    );
    console.log(`(${machineLoad()})`);
  } finally {
    for (const rig of rigs) {
      await rig.runner.idle().catch(() => undefined);
      await rig.backend.close();
      rig.store.close();
    }
    await Promise.all(workers.map((worker) => worker.stop()));
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
