import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { BoundedLabel, LatentcordMetrics, gatewayStatuses, jobStages } from '../../src/metrics/index.js';
import { sampleValue } from './http-client.js';

const bucket = (stage: string, le: string) => `latentcord_job_stage_duration_seconds_bucket{le="${le}",stage="${stage}"}`;

describe('LatentcordMetrics', () => {
  it('keeps its own registry: two instances do not share values, the global registry stays empty', async () => {
    const a = new LatentcordMetrics({ processMetrics: false });
    const b = new LatentcordMetrics({ processMetrics: false });
    a.recordJob('succeeded', null, {});
    a.recordJob('succeeded', null, {});
    b.recordJob('failed', 'worker.crashed', {});
    const textA = await a.render();
    const textB = await b.render();
    assert.equal(sampleValue(textA, 'latentcord_jobs_total{outcome="succeeded",error="none"}'), 2);
    assert.equal(sampleValue(textA, 'latentcord_jobs_total{outcome="failed",error="worker.crashed"}'), undefined);
    assert.equal(
      sampleValue(textB, 'latentcord_jobs_total{outcome="succeeded",error="none"}'),
      0,
      'the success series exists from the start',
    );
    assert.equal(sampleValue(textB, 'latentcord_jobs_total{outcome="failed",error="worker.crashed"}'), 1);
    assert.equal((await globalRegistry.getMetricsAsJSON()).filter((m) => m.name.startsWith('latentcord_')).length, 0);
  });

  it('counts jobs by outcome and error identifier, success under error="none"', async () => {
    const metrics = new LatentcordMetrics({ processMetrics: false });
    metrics.recordJob('succeeded', null, {});
    metrics.recordJob('cancelled', 'job.cancelled', {});
    metrics.recordJob('cancelled', 'queue.full', {});
    metrics.recordJob('cancelled', 'job.cancelled', {});
    metrics.recordJob('failed', 'internal', {});
    metrics.recordInterrupted(3);
    metrics.recordInterrupted(0);
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="succeeded",error="none"}'), 1);
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="cancelled",error="job.cancelled"}'), 2);
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="cancelled",error="queue.full"}'), 1);
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="failed",error="internal"}'), 1);
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="interrupted",error="none"}'), 3);
  });

  it('bounds the error label: free text and identifiers past the limit count as "other"', async () => {
    const metrics = new LatentcordMetrics({ processMetrics: false, maxErrorLabels: 2 });
    metrics.recordJob('failed', 'worker.crashed', {});
    metrics.recordJob('failed', 'worker.timeout', {});
    metrics.recordJob('failed', 'image.tooLarge', {});
    metrics.recordJob('failed', "Cannot read properties of undefined (reading 'x')", {});
    metrics.recordJob('failed', 'worker.crashed', {});
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="failed",error="worker.crashed"}'), 2);
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="failed",error="worker.timeout"}'), 1);
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="failed",error="other"}'), 2);
    const series = text.split('\n').filter((line) => line.startsWith('latentcord_jobs_total{'));
    assert.equal(series.length, 4, series.join('\n'));
  });

  it('BoundedLabel passes the first identifiers and maps the rest, and odd shapes, to "other"', () => {
    const label = new BoundedLabel(3);
    assert.deepEqual(
      ['a.b', '', 'other', '12345678901234567', 'x y', 'c', 'a.b', 'd', 'e', 'd'].map((v) => label.valueFor(v)),
      ['a.b', 'other', 'other', 'other', 'other', 'c', 'a.b', 'd', 'other', 'd'],
    );
  });

  it('observes stage durations in seconds, in the right buckets, only for stages reached', async () => {
    const metrics = new LatentcordMetrics({ processMetrics: false });
    metrics.recordJob('succeeded', null, { queueWait: 40, encode: 30, denoise: 300, decode: 2000, png: 4, upload: 120 });
    metrics.recordJob('failed', 'worker.crashed', { queueWait: 1200 });
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_job_stage_duration_seconds_count{stage="queueWait"}'), 2);
    assert.ok(Math.abs(sampleValue(text, 'latentcord_job_stage_duration_seconds_sum{stage="queueWait"}')! - 1.24) < 1e-9);
    assert.equal(sampleValue(text, bucket('queueWait', '0.05')), 1);
    assert.equal(sampleValue(text, bucket('queueWait', '1')), 1);
    assert.equal(sampleValue(text, bucket('queueWait', '2.5')), 2);
    assert.equal(sampleValue(text, bucket('denoise', '0.25')), 0);
    assert.equal(sampleValue(text, bucket('denoise', '0.5')), 1);
    assert.equal(sampleValue(text, bucket('decode', '1')), 0);
    assert.equal(sampleValue(text, bucket('decode', '2.5')), 1);
    assert.equal(sampleValue(text, bucket('png', '0.005')), 1);
    for (const stage of jobStages) assert.equal(sampleValue(text, bucket(stage, '+Inf')), stage === 'queueWait' ? 2 : 1, stage);
  });

  it('observes seconds per denoising step per batch and counts batches and images', async () => {
    const metrics = new LatentcordMetrics({ processMetrics: false });
    metrics.recordBatch(3, 20, 1000);
    metrics.recordBatch(1, 4, 8);
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_denoise_step_duration_seconds_count'), 2);
    assert.ok(Math.abs(sampleValue(text, 'latentcord_denoise_step_duration_seconds_sum')! - 0.052) < 1e-12);
    assert.equal(sampleValue(text, 'latentcord_denoise_step_duration_seconds_bucket{le="0.0025"}'), 1, '2 ms per step');
    assert.equal(sampleValue(text, 'latentcord_denoise_step_duration_seconds_bucket{le="0.025"}'), 1);
    assert.equal(sampleValue(text, 'latentcord_denoise_step_duration_seconds_bucket{le="0.05"}'), 2, '50 ms per step');
    assert.equal(sampleValue(text, 'latentcord_batches_total'), 2);
    assert.equal(sampleValue(text, 'latentcord_images_generated_total'), 4);
  });

  it('counts pipeline restarts', async () => {
    const metrics = new LatentcordMetrics({ processMetrics: false });
    assert.equal(sampleValue(await metrics.render(), 'latentcord_pipeline_restarts_total'), 0);
    metrics.recordPipelineRestart();
    metrics.recordPipelineRestart();
    assert.equal(sampleValue(await metrics.render(), 'latentcord_pipeline_restarts_total'), 2);
  });

  it('reads the gauges from the status providers at each scrape', async () => {
    let discordStatus = 'Identifying';
    const metrics = new LatentcordMetrics({
      processMetrics: false,
      status: {
        discord: () => ({ ready: discordStatus === 'Ready', status: discordStatus }),
        pipeline: () => ({ ready: discordStatus === 'Ready', restarts: 0 }),
        queue: () => ({ waiting: discordStatus.length, running: 1 }),
      },
    });
    let text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_queue_length'), 'Identifying'.length);
    assert.equal(sampleValue(text, 'latentcord_jobs_running'), 1);
    assert.equal(sampleValue(text, 'latentcord_pipeline_ready'), 0);
    assert.equal(sampleValue(text, 'latentcord_discord_ready'), 0);
    for (const status of gatewayStatuses)
      assert.equal(sampleValue(text, `latentcord_discord_gateway_status{status="${status}"}`), status === 'Identifying' ? 1 : 0, status);
    discordStatus = 'Ready';
    text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_pipeline_ready'), 1);
    assert.equal(sampleValue(text, 'latentcord_discord_ready'), 1);
    assert.equal(sampleValue(text, 'latentcord_discord_gateway_status{status="Ready"}'), 1);
    assert.equal(sampleValue(text, 'latentcord_discord_gateway_status{status="Identifying"}'), 0);
    discordStatus = 'SomethingNew';
    text = await metrics.render();
    assert.equal(sampleValue(text, 'latentcord_discord_gateway_status{status="other"}'), 1);
  });

  it('adds the default Node process metrics, prefixed latentcord_, unless turned off', async () => {
    const withProcess = await new LatentcordMetrics().render();
    for (const name of [
      'latentcord_process_cpu_seconds_total',
      'latentcord_process_resident_memory_bytes',
      'latentcord_nodejs_eventloop_lag_seconds',
      'latentcord_nodejs_heap_size_used_bytes',
    ]) {
      assert.match(withProcess, new RegExp(`^${name} \\d`, 'm'), name);
    }
    assert.doesNotMatch(withProcess, /^process_cpu_seconds_total/m, 'no unprefixed names');
    const without = await new LatentcordMetrics({ processMetrics: false }).render();
    assert.doesNotMatch(without, /latentcord_process_|latentcord_nodejs_/);
  });

  it('every sample name starts with latentcord_', async () => {
    const text = await new LatentcordMetrics().render();
    const names = text
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(/[{ ]/)[0]!);
    assert.ok(names.length > 20);
    assert.deepEqual(
      names.filter((name) => !name.startsWith('latentcord_')),
      [],
    );
  });
});
