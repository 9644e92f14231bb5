import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { isUserError } from '../../src/errors.js';
import { toPipelineBatch } from '../../src/jobs/pipeline-batch.js';
import { renderPngs } from '../../src/jobs/png-output.js';
import type { InitImage, StepProgress } from '../../src/pipeline/stable-diffusion.js';
import { defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { modelIdentity, RedisBackend, redisOptionsFrom, RemoteWorker } from '../../src/scale/index.js';
import type { JobSpec } from '../../src/store/index.js';
import { PipelineWorker } from '../../src/worker/pipeline-worker.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { writeSafetyChecker } from '../support/onnx/safety-checker-graphs.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { memoryLogger, otherModelCopy, until } from './scale-harness.js';

const { log: _log, ...runtime } = defaultRuntimeOptions;
const prefix = 'backend-test';

/** A job record as the bot stores it (the fields the pipeline and the PNGs read). */
function spec(overrides: Partial<JobSpec> = {}): JobSpec {
  return {
    kind: 'imagine',
    prompt: 'a lighthouse at dusk',
    negativePrompt: 'fog',
    steps: 3,
    guidance: 7.5,
    width: 64,
    height: 64,
    scheduler: 'euler',
    count: 1,
    seed: '18446744073709551615',
    strength: 0.7,
    sourceImageUrl: null,
    emphasis: 'original',
    maxPromptTokens: 225,
    ...overrides,
  };
}

/** A 64×64 source picture in the pipeline's layout: `[1, 3, H, W]` values in [-1, 1]. */
function sourcePicture(): InitImage {
  const pixels = new Float32Array(3 * 64 * 64);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i / 97);
  return { pixels, width: 64, height: 64 };
}

describe('RedisBackend and RemoteWorker (real redis-server, real pipeline process, tiny model)', () => {
  let redis: RedisServer;
  let pipeline: PipelineWorker;
  let worker: RemoteWorker;
  let backend: RedisBackend;
  let inspect: Redis;
  const workerLog = memoryLogger('worker');
  const cleanups: (() => Promise<void>)[] = [];
  const botLog = memoryLogger('bot');

  before(async () => {
    redis = await startRedis();
    inspect = new Redis(redisOptionsFrom(redis.url));
    pipeline = await PipelineWorker.start({ modelDir: tinyModelDir, runtime: { ...runtime, intraOpThreads: 1 } });
    worker = await RemoteWorker.start({
      redisUrl: redis.url,
      prefix,
      name: 'worker-a',
      identity: await modelIdentity(tinyModelDir),
      pipeline,
      deviceLabel: 'cpu',
      heartbeatSeconds: 1,
      lockSeconds: 5,
      stalledCheckSeconds: 2,
      resultTtlSeconds: 600,
      logger: workerLog.logger,
    });
    backend = await RedisBackend.start({
      redisUrl: redis.url,
      prefix,
      modelDir: tinyModelDir,
      heartbeatSeconds: 1,
      lostJobGraceSeconds: 5,
      resultTtlSeconds: 600,
      logger: botLog.logger,
    });
    await until(() => backend.refusal() === undefined, 'the bot sees the worker');
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await backend?.close();
    await worker?.stop(0);
    await pipeline?.close();
    inspect?.disconnect();
    await redis?.close();
  });

  it('runs a batch on the worker: the same PNG bytes as the local path, progress on the way, nothing left in Redis', async () => {
    const records = [spec(), spec({ prompt: 'a second lighthouse', seed: '5', count: 2 })];
    const call = toPipelineBatch(
      records.map((job) => ({ job })),
      'cpu',
    );
    const local = await pipeline.run(call.jobs, call.parameters);
    const expected = await Promise.all(
      local.jobs.map((output, i) => renderPngs(output.images, records[i]!, { rng: 'cpu', modelName: 'tiny-sd' })),
    );

    const steps: StepProgress[] = [];
    const remote = await backend.run(call.jobs, call.parameters, { onProgress: (p) => steps.push(p), jobIds: ['job-1', 'job-2'] });
    assert.deepEqual(
      remote.jobs.map((job) => job.pngs),
      expected,
      'byte for byte, parameters text included',
    );
    assert.deepEqual(remote.jobs[0]!.images, []);
    assert.equal(remote.timings.steps, 3);
    assert.ok(
      steps.some((p) => p.step === 3 && p.totalSteps === 3),
      `progress: ${JSON.stringify(steps)}`,
    );
    const finished = workerLog.lines.filter((line) => line.msg === 'job finished' && line['outcome'] === 'succeeded');
    assert.deepEqual(
      finished.map((line) => [line['jobId'], line['worker']]),
      [
        ['job-1', 'worker-a'],
        ['job-2', 'worker-a'],
      ],
    );
    await until(async () => (await inspect.keys(`${prefix}:lc:blob:*`)).length === 0, 'the pictures were deleted');
    const counts = await inspect.keys(`${prefix}:${backend.identity.queueName}:*`);
    assert.ok(!counts.some((key) => /:[0-9a-f-]{36}$/u.test(key)), `no job hash left: ${counts.join(', ')}`);
  });

  it('a model with a safety checker: the worker checks every picture and the bot gets the verdicts it decides on', async () => {
    assert.equal(backend.model.safetyChecker, false, 'the tiny model has no checker');
    const copy = otherModelCopy();
    writeSafetyChecker(copy.dir, { flags: 'all' });
    const checkedPipeline = await PipelineWorker.start({ modelDir: copy.dir, runtime: { ...runtime, intraOpThreads: 1 } });
    const identity = await modelIdentity(copy.dir);
    // Its own prefix: the other tests see neither this worker nor its model.
    const options = { redisUrl: redis.url, prefix: `${prefix}-checked`, heartbeatSeconds: 1, resultTtlSeconds: 600 };
    const checkedWorker = await RemoteWorker.start({
      ...options,
      name: 'worker-checked',
      identity,
      pipeline: checkedPipeline,
      deviceLabel: 'cpu',
      lockSeconds: 5,
      stalledCheckSeconds: 2,
      logger: memoryLogger('checked-worker').logger,
    });
    const checkedBackend = await RedisBackend.start({
      ...options,
      modelDir: copy.dir,
      lostJobGraceSeconds: 5,
      logger: memoryLogger('checked-bot').logger,
    });
    try {
      assert.equal(checkedBackend.model.safetyChecker, true);
      await until(() => checkedBackend.refusal() === undefined, 'the bot sees the checking worker');
      const call = toPipelineBatch([{ job: spec({ count: 2 }) }, { job: spec({ prompt: 'another', seed: '9' }) }], 'cpu');
      const remote = await checkedBackend.run(call.jobs, call.parameters);
      assert.deepEqual(remote.flagged, [[true, true], [true]]);
      assert.equal(remote.jobs[0]!.pngs!.length, 2, 'the pictures come back; the bot decides what happens to them');
    } finally {
      await checkedBackend.close();
      await checkedWorker.stop(0);
      await checkedPipeline.close();
      copy.remove();
    }
  });

  it('carries a remix source picture to the worker and gets the same picture as the local path', async () => {
    const record = spec({ kind: 'remix', strength: 0.6, steps: 4 });
    const call = toPipelineBatch([{ job: record, initImage: sourcePicture() }], 'cpu');
    const local = await pipeline.run(call.jobs, call.parameters);
    const [expected] = await Promise.all(
      local.jobs.map((output) => renderPngs(output.images, record, { rng: 'cpu', modelName: 'tiny-sd' })),
    );
    const remote = await backend.run(call.jobs, call.parameters);
    assert.deepEqual(remote.jobs[0]!.pngs, expected);
    await until(async () => (await inspect.keys(`${prefix}:lc:blob:*`)).length === 0, 'the source and the pictures were deleted');
  });

  it('stops a running remote job between steps when cancelled, and then serves the next one', async () => {
    const call = toPipelineBatch([{ job: spec({ steps: 400 }) }], 'cpu');
    const controller = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      backend.run(call.jobs, call.parameters, {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.step);
          controller.abort();
        },
      }),
      (error: unknown) => isUserError(error) && error.identifier === 'job.cancelled',
    );
    assert.ok(seen.length > 0 && seen.at(-1)! < 400, `stopped early: ${seen.join(',')}`);
    assert.ok(workerLog.lines.some((line) => line.msg === 'job finished' && line['outcome'] === 'cancelled'));
    const next = await backend.run(
      toPipelineBatch([{ job: spec() }], 'cpu').jobs,
      call.parameters.numInferenceSteps ? { ...call.parameters, numInferenceSteps: 2 } : call.parameters,
    );
    assert.equal(next.jobs[0]!.pngs?.length, 1);
  });

  it('takes a waiting job out of the queue when cancelled before a worker took it', async () => {
    const long = toPipelineBatch([{ job: spec({ steps: 400 }) }], 'cpu');
    const longAbort = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = backend.run(long.jobs, long.parameters, { signal: longAbort.signal, onProgress: () => started() });
    await running;
    const waitingAbort = new AbortController();
    const second = backend.run(long.jobs, long.parameters, { signal: waitingAbort.signal });
    await until(async () => (await inspect.llen(`${prefix}:${backend.identity.queueName}:wait`)) === 1, 'the second job waits in BullMQ');
    waitingAbort.abort();
    await assert.rejects(second, (error: unknown) => isUserError(error) && error.identifier === 'job.cancelled');
    assert.equal(await inspect.llen(`${prefix}:${backend.identity.queueName}:wait`), 0, 'removed from the queue');
    longAbort.abort();
    await assert.rejects(first, (error: unknown) => isUserError(error) && error.identifier === 'job.cancelled');
  });

  it('refuses jobs for a model no live worker serves, naming the model', async () => {
    const other = otherModelCopy();
    const log = memoryLogger('other-bot');
    const otherBackend = await RedisBackend.start({
      redisUrl: redis.url,
      prefix,
      modelDir: other.dir,
      heartbeatSeconds: 1,
      lostJobGraceSeconds: 1,
      resultTtlSeconds: 600,
      logger: log.logger,
    });
    try {
      await until(() => otherBackend.workers.length === 1, 'it sees the worker of the other model');
      assert.notEqual(otherBackend.identity.key, backend.identity.key);
      const refusal = otherBackend.refusal();
      assert.ok(isUserError(refusal) && refusal.identifier === 'queue.noWorker', String(refusal));
      assert.match(refusal.message, /No image worker is running for this bot's model \(tiny-sd\)/);
      assert.deepEqual(
        otherBackend.pipelines().map((p) => [p.name, p.model]),
        [['worker-a', `${backend.identity.key} (another model)`]],
      );
      const call = toPipelineBatch([{ job: spec() }], 'cpu');
      await assert.rejects(
        otherBackend.run(call.jobs, call.parameters),
        (error: unknown) => isUserError(error) && error.identifier === 'queue.noWorker',
      );
    } finally {
      await otherBackend.close();
      other.remove();
    }
  });

  it('counts live workers as its capacity and shows them with device and state', async () => {
    assert.equal(backend.capacity, 1);
    assert.deepEqual(
      backend.pipelines().map(({ name, model, device, busy }) => ({ name, model, device, busy })),
      [{ name: 'worker-a', model: 'tiny-sd', device: 'cpu', busy: false }],
    );
    assert.deepEqual(backend.status(), { ready: true, restarts: 0 });
  });

  it('a worker stopping gracefully past its grace time puts the running job back; another worker finishes it', async () => {
    const second = await PipelineWorker.start({ modelDir: tinyModelDir, runtime: { ...runtime, intraOpThreads: 1 } });
    const secondLog = memoryLogger('worker-b');
    const workerB = await RemoteWorker.start({
      redisUrl: redis.url,
      prefix,
      name: 'worker-b',
      identity: await modelIdentity(tinyModelDir),
      pipeline: second,
      deviceLabel: 'cpu',
      heartbeatSeconds: 1,
      lockSeconds: 5,
      stalledCheckSeconds: 2,
      resultTtlSeconds: 600,
      logger: secondLog.logger,
    });
    try {
      await until(() => backend.capacity === 2, 'the bot sees both workers');
      const call = toPipelineBatch([{ job: spec({ steps: 200, prompt: 'handed over' }) }], 'cpu');
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const result = backend.run(call.jobs, call.parameters, { onProgress: () => started(), jobIds: ['handed-over'] });
      await running;
      const holder = workerLog.lines.some((l) => l.msg === 'job started' && (l['jobs'] as string[]).includes('handed-over'))
        ? worker
        : workerB;
      const other = holder === worker ? workerB : worker;
      const otherLog = holder === worker ? secondLog : workerLog;
      await holder.stop(100);
      const done = await result;
      assert.equal(done.jobs[0]!.pngs?.length, 1);
      assert.ok(otherLog.lines.some((l) => l.msg === 'job finished' && l['jobId'] === 'handed-over' && l['outcome'] === 'succeeded'));
      if (holder === worker) worker = other; // the survivor serves the tests after this one
    } finally {
      cleanups.push(async () => {
        await workerB.stop(0);
        await second.close();
      });
    }
  });

  it('refuses new jobs while Redis is down and recovers by itself when it is back', async () => {
    await redis.kill();
    await until(() => backend.refusal()?.message.includes("can't reach its image workers") ?? false, 'the bot notices');
    const refusal = backend.refusal();
    assert.ok(isUserError(refusal) && refusal.identifier === 'queue.backendDown');
    assert.equal(backend.status().ready, false);
    await redis.restart();
    await until(() => backend.refusal() === undefined, 'the bot sees Redis and the worker again', 60_000);
    const call = toPipelineBatch([{ job: spec({ steps: 2 }) }], 'cpu');
    const result = await backend.run(call.jobs, call.parameters);
    assert.equal(result.jobs[0]!.pngs?.length, 1, 'the worker took jobs again after Redis came back');
    assert.ok(botLog.lines.some((line) => line.msg === 'redis unreachable: new jobs are refused until it is back'));
    assert.ok(botLog.lines.some((line) => line.msg === 'redis reachable again'));
  });
});
