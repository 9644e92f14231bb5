import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tinyModelDir } from '../helpers/fixtures.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, type WorkerProcess } from './worker-process.js';

const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

function runCli(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [cliPath, ...args], {
    env: { PATH: process.env['PATH'] ?? '', LATENTCORD_MODEL_DIR: tinyModelDir, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('`latentcord worker`', () => {
  it('is listed in the usage', () => {
    assert.match(runCli(['--help'], {}).stdout, /latentcord worker \[--model DIR\]/);
  });

  it('refuses to start without a Redis URL, saying which variable to set', () => {
    const result = runCli(['worker'], {});
    assert.equal(result.status, 2);
    assert.match(result.stderr, /set LATENTCORD_REDIS_URL/);
  });

  it('refuses to hold the Discord token', () => {
    const result = runCli(['worker'], { LATENTCORD_REDIS_URL: 'redis://127.0.0.1:1', DISCORD_TOKEN: 'abc.def.ghi' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /must not hold the Discord token/);
    assert.doesNotMatch(result.stderr + result.stdout, /abc\.def\.ghi/);
  });
});

describe('a worker’s /healthz and /metrics (real worker process, real redis-server)', () => {
  let redis: RedisServer;
  let worker: WorkerProcess;
  let url: string;
  before(async () => {
    redis = await startRedis({ tcp: true, password: 's3cret/+' });
    worker = await startWorker({ name: 'observed', redisUrl: redis.url, env: { LATENTCORD_HTTP_PORT: '0' } });
    url = String((await worker.waitForLog((l) => l.msg === 'http endpoint listening'))['address']);
  });
  after(async () => {
    await worker?.kill();
    await redis?.close();
  });

  it('never logs the Redis password', () => {
    assert.ok(worker.output.length > 0);
    assert.ok(!worker.output.some((line) => line.includes('s3cret')), 'password absent from every line');
  });

  it('is healthy while its pipeline is loaded and Redis reachable, and says why not when Redis is gone', async () => {
    const healthy = await fetch(`${url}/healthz`);
    assert.equal(healthy.status, 200);
    const body = (await healthy.json()) as Record<string, unknown>;
    assert.equal(body['status'], 'ok');
    assert.equal(body['worker'], 'observed');
    await redis.kill();
    try {
      let answer: Response;
      const deadline = Date.now() + 30_000;
      do {
        answer = await fetch(`${url}/healthz`);
        if (answer.status === 503) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      } while (Date.now() < deadline);
      assert.equal(answer.status, 503);
      assert.match(String(((await answer.json()) as Record<string, unknown>)['reason']), /Redis unreachable/);
    } finally {
      await redis.restart();
    }
  });

  it('serves Prometheus metrics: jobs, step time, restarts, busy, Redis, pipeline', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const name of [
      'latentcord_worker_jobs_total',
      'latentcord_worker_denoise_step_duration_seconds',
      'latentcord_worker_pipeline_restarts_total 0',
      'latentcord_worker_busy 0',
      'latentcord_worker_pipeline_ready 1',
      'latentcord_worker_redis_connected',
      'latentcord_worker_process_cpu_seconds_total',
    ]) {
      assert.ok(text.includes(name), `metrics include ${name}`);
    }
  });
});
