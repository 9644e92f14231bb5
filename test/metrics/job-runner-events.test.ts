import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { UserError } from '../../src/errors.js';
import { LatentcordMetrics, jobStages, watchJobRunner } from '../../src/metrics/index.js';
import {
  FakePipeline,
  RecordingObserver,
  crashError,
  gate,
  runnerHarness,
  type LogRecord,
  type RunnerHarness,
} from './job-runner-harness.js';
import { sampleValue } from './http-client.js';

const finishedLines = (logs: readonly LogRecord[]) => logs.filter((line) => line.msg === 'job finished');

/** Every (path, value) of a log line whose string value contains `needle`. */
function pathsContaining(value: unknown, needle: string, path = ''): string[] {
  if (typeof value === 'string') return value.includes(needle) ? [path] : [];
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([key, inner]) => pathsContaining(inner, needle, path ? `${path}.${key}` : key));
  return [];
}

describe('JobRunner events and job log lines', () => {
  let harness: RunnerHarness | undefined;
  afterEach(() => {
    harness?.close();
    harness = undefined;
  });

  it('a delivered job: batchStart, batchEnd with the timings, jobFinished succeeded with all six stages', async () => {
    harness = runnerHarness();
    const { record } = harness.submit({ steps: 5, count: 2 });
    await harness.runner.idle();
    const { batchStart, batchEnd, jobFinished } = harness.events;
    assert.equal(batchStart.length, 1);
    assert.deepEqual(
      batchStart[0]!.jobs.map((j) => j.id),
      [record.id],
    );
    assert.equal(batchStart[0]!.images, 2);
    assert.equal(batchEnd.length, 1);
    assert.equal(batchEnd[0]!.errorIdentifier, null);
    assert.equal(batchEnd[0]!.timings?.steps, 5);
    assert.equal(batchEnd[0]!.images, 2);
    assert.equal(jobFinished.length, 1);
    const finished = jobFinished[0]!;
    assert.equal(finished.outcome, 'succeeded');
    assert.equal(finished.errorIdentifier, null);
    assert.equal(finished.record.status, 'succeeded');
    assert.deepEqual(Object.keys(finished.stages).sort(), [...jobStages].sort());
    assert.equal(finished.stages.encode, FakePipeline.timings.encodeMs);
    assert.equal(finished.stages.denoise, FakePipeline.timings.denoiseMs);
    assert.equal(finished.stages.decode, FakePipeline.timings.decodeMs);
    for (const stage of jobStages) assert.ok(finished.stages[stage]! >= 0, stage);
    assert.deepEqual(
      Object.keys(harness.store.getJob(record.id)!.stageDurations).sort(),
      [...jobStages].sort(),
      'the store has the same stages',
    );
  });

  it('every job log line carries job id, guild and user; the finish line has outcome and stage timings', async () => {
    harness = runnerHarness();
    const { record } = harness.submit({ userId: '444444444444444444', guildId: '555555555555555555' });
    await harness.runner.idle();
    const jobLines = harness.logs.filter((line) => line['job'] === record.id);
    assert.deepEqual(
      jobLines.map((line) => line.msg),
      ['job submitted', 'job started', 'job finished'],
    );
    for (const line of jobLines) {
      assert.equal(line['guild'], '555555555555555555', String(line.msg));
      assert.equal(line['user'], '444444444444444444', String(line.msg));
    }
    const [finished] = finishedLines(harness.logs);
    assert.equal(finished!['outcome'], 'succeeded');
    const stages = finished!['stages'] as Record<string, number>;
    assert.deepEqual(Object.keys(stages).sort(), [...jobStages].sort());
    assert.equal(stages['denoise'], FakePipeline.timings.denoiseMs);
    for (const stage of jobStages) assert.ok(Number.isInteger(stages[stage]), `${stage} in whole ms`);
    const batch = harness.logs.find((line) => line.msg === 'batch generated')!;
    assert.deepEqual(batch['jobs'], [record.id]);
    assert.equal(batch['denoise'], FakePipeline.timings.denoiseMs);
  });

  it('the prompt appears in the logs only under a `prompt` key', async () => {
    harness = runnerHarness();
    const prompt = 'zebra-unicorn in a {"msg": "spoof"} teacup';
    harness.submit({ prompt });
    harness.submit({ prompt, seed: '2' }, Object.assign(new RecordingObserver(), { deliveryError: new Error('upload failed') }));
    harness.pipeline.script.push({ kind: 'ok' }, { kind: 'ok' });
    await harness.runner.idle();
    const paths = harness.logs.flatMap((line) => pathsContaining(line, 'zebra-unicorn'));
    assert.ok(paths.length >= 2, 'the prompt was logged');
    assert.deepEqual([...new Set(paths)], ['prompt']);
    assert.ok(harness.logs.every((line) => typeof line.msg !== 'string' || !line.msg.includes('zebra')));
  });

  it('a pipeline crash: batchEnd without timings, jobFinished failed with the identifier and the queue wait', async () => {
    harness = runnerHarness();
    harness.pipeline.script.push({ kind: 'fail', error: crashError() });
    const observer = new RecordingObserver();
    const { record } = harness.submit({}, observer);
    await harness.runner.idle();
    assert.equal(harness.events.batchEnd[0]!.timings, null);
    assert.equal(harness.events.batchEnd[0]!.errorIdentifier, 'worker.crashed');
    const [finished] = harness.events.jobFinished;
    assert.equal(finished!.outcome, 'failed');
    assert.equal(finished!.errorIdentifier, 'worker.crashed');
    assert.deepEqual(Object.keys(finished!.stages), ['queueWait']);
    assert.equal(harness.store.getJob(record.id)!.status, 'failed');
    assert.equal(observer.failures.length, 1);
    const line = finishedLines(harness.logs)[0]!;
    assert.deepEqual(
      [line['outcome'], line['error'], line['job'], line['guild'], line['user']],
      ['failed', 'worker.crashed', record.id, record.guildId, record.userId],
    );
  });

  it('an unexpected error is `internal` and logged as an error line with job, guild and user', async () => {
    harness = runnerHarness();
    harness.pipeline.script.push({ kind: 'fail', error: new TypeError('boom') });
    const { record } = harness.submit({ guildId: null });
    await harness.runner.idle();
    assert.equal(harness.events.jobFinished[0]!.errorIdentifier, 'internal');
    const errorLine = harness.logs.find((line) => line.msg === 'job failed')!;
    assert.equal(errorLine.level, 50);
    assert.deepEqual([errorLine['job'], errorLine['guild'], errorLine['user']], [record.id, null, record.userId]);
    assert.equal((errorLine['err'] as { message: string }).message, 'boom');
  });

  it('a failed upload: failed `delivery`, with the png and upload stages', async () => {
    harness = runnerHarness();
    const observer = Object.assign(new RecordingObserver(), { deliveryError: new Error('HTTP 500') });
    const { record } = harness.submit({}, observer);
    await harness.runner.idle();
    const [finished] = harness.events.jobFinished;
    assert.equal(finished!.outcome, 'failed');
    assert.equal(finished!.errorIdentifier, 'delivery');
    assert.deepEqual(Object.keys(finished!.stages).sort(), [...jobStages].sort());
    assert.equal(harness.store.getJob(record.id)!.errorIdentifier, 'delivery');
  });

  it('cancelled while waiting, refused by a full queue, dropped at shutdown: each one jobFinished cancelled', async () => {
    harness = runnerHarness({ maxQueueLength: 2 });
    const hold = gate();
    harness.pipeline.script.push({ kind: 'hold', release: hold.promise });
    const running = harness.submit({ seed: '1' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(harness.events.batchStart.length, 1, 'the first job holds the pipeline');
    const waiting = harness.submit({ seed: '2' });
    const dropped = harness.submit({ seed: '3' });
    assert.throws(
      () => harness!.submit({ seed: '4' }),
      (error: unknown) => error instanceof UserError && error.identifier === 'queue.full',
    );
    assert.equal(harness.runner.cancel(waiting.record.id), 'removed');
    await harness.runner.closeQueue(new UserError('queue.closed', 'restarting'));
    hold.open();
    await harness.runner.idle();
    const byId = new Map(harness.events.jobFinished.map((event) => [event.record.id, event]));
    assert.equal(harness.events.jobFinished.length, 4);
    assert.equal(byId.get(running.record.id)!.outcome, 'succeeded');
    assert.deepEqual([byId.get(waiting.record.id)!.outcome, byId.get(waiting.record.id)!.errorIdentifier], ['cancelled', 'job.cancelled']);
    assert.deepEqual([byId.get(dropped.record.id)!.outcome, byId.get(dropped.record.id)!.errorIdentifier], ['cancelled', 'queue.closed']);
    const refused = harness.events.jobFinished.find((event) => event.errorIdentifier === 'queue.full')!;
    assert.equal(refused.outcome, 'cancelled');
    assert.equal(harness.store.getJob(refused.record.id)!.status, 'cancelled');
    assert.ok(byId.get(waiting.record.id)!.stages.queueWait! >= 0, 'time spent waiting is reported');
    assert.deepEqual(Object.keys(refused.stages), [], 'a refused job never waited');
  });

  it('compatible jobs share one batch: one batchStart/batchEnd, one jobFinished each', async () => {
    harness = runnerHarness({ maxBatchImages: 4 });
    const hold = gate();
    harness.pipeline.script.push({ kind: 'hold', release: hold.promise });
    harness.submit({ seed: '1' });
    await new Promise((resolve) => setImmediate(resolve));
    const a = harness.submit({ seed: '2' });
    const b = harness.submit({ seed: '3', count: 2 });
    hold.open();
    await harness.runner.idle();
    assert.equal(harness.events.batchStart.length, 2);
    assert.deepEqual(
      harness.events.batchStart[1]!.jobs.map((j) => j.id),
      [a.record.id, b.record.id],
    );
    assert.equal(harness.events.batchStart[1]!.images, 3);
    assert.equal(harness.events.batchEnd[1]!.images, 3);
    assert.equal(harness.events.jobFinished.filter((e) => e.outcome === 'succeeded').length, 3);
  });

  it('watchJobRunner turns the events into the right counters and histograms, and stops when asked', async () => {
    harness = runnerHarness({ maxBatchImages: 1 });
    const metrics = new LatentcordMetrics({ processMetrics: false });
    const unwatch = watchJobRunner(metrics, harness.runner);
    harness.pipeline.script.push({ kind: 'ok' }, { kind: 'ok' }, { kind: 'fail', error: crashError() });
    harness.submit({ seed: '1', steps: 4, count: 2 });
    harness.submit({ seed: '2', steps: 4 });
    harness.submit({ seed: '3', steps: 4 });
    await harness.runner.idle();
    let text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="succeeded",error="none"}'), 2);
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="failed",error="worker.crashed"}'), 1);
    assert.equal(sampleValue(text, 'latentcord_job_stage_duration_seconds_count{stage="queueWait"}'), 3);
    assert.equal(sampleValue(text, 'latentcord_job_stage_duration_seconds_count{stage="denoise"}'), 2);
    assert.equal(sampleValue(text, 'latentcord_job_stage_duration_seconds_count{stage="upload"}'), 2);
    assert.ok(Math.abs(sampleValue(text, 'latentcord_job_stage_duration_seconds_sum{stage="denoise"}')! - 0.08) < 1e-12);
    assert.equal(sampleValue(text, 'latentcord_batches_total'), 2);
    assert.equal(sampleValue(text, 'latentcord_images_generated_total'), 3);
    assert.equal(sampleValue(text, 'latentcord_denoise_step_duration_seconds_count'), 2);
    assert.ok(Math.abs(sampleValue(text, 'latentcord_denoise_step_duration_seconds_sum')! - 0.02) < 1e-12, '40 ms / 4 steps, twice');
    unwatch();
    harness.submit({ seed: '4' });
    await harness.runner.idle();
    text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="succeeded",error="none"}'), 2, 'no longer counted');
  });
});
