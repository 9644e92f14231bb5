import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { UserError } from '../../src/errors.js';
import {
  LatentcordMetrics,
  checkHealth,
  startHttpEndpoint,
  type DiscordStatus,
  type HttpEndpoint,
  type PipelineStatus,
  type StatusProviders,
} from '../../src/metrics/index.js';
import { httpRequest, sampleValue } from './http-client.js';

/** Status providers whose answers the test changes between requests. */
function stubStatus() {
  const state = {
    discord: { ready: true, status: 'Ready' } as DiscordStatus,
    pipeline: { ready: true, restarts: 0 } as PipelineStatus,
    queue: { waiting: 0, running: 0 },
    stopping: false,
  };
  const providers: StatusProviders = {
    discord: () => state.discord,
    pipeline: () => state.pipeline,
    queue: () => state.queue,
    stopping: () => state.stopping,
  };
  return { state, providers };
}

describe('HTTP endpoint (real sockets, stub status)', () => {
  const { state, providers } = stubStatus();
  const metrics = new LatentcordMetrics({ status: providers, processMetrics: false });
  let endpoint: HttpEndpoint;
  before(async () => {
    endpoint = await startHttpEndpoint({
      host: '127.0.0.1',
      port: 0,
      health: () => checkHealth(providers),
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
    });
  });
  after(async () => {
    await endpoint?.close();
  });

  it('listens on the loopback address it was given, on a free port', () => {
    assert.equal(endpoint.address.address, '127.0.0.1');
    assert.ok(endpoint.address.port > 0);
    assert.equal(endpoint.url, `http://127.0.0.1:${endpoint.address.port}`);
  });

  it('GET /healthz is 200 with status ok when Discord and the pipeline are ready', async () => {
    state.queue = { waiting: 3, running: 1 };
    const answer = await httpRequest(endpoint.url, { path: '/healthz' });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    const body = JSON.parse(answer.body);
    assert.equal(body.status, 'ok');
    assert.equal(body.reason, undefined);
    assert.deepEqual(body.discord, { ready: true, status: 'Ready' });
    assert.deepEqual(body.pipeline, { ready: true, restarts: 0 });
    assert.deepEqual(body.queue, { waiting: 3, running: 1 });
  });

  it('GET /healthz is 503 naming the reason while the pipeline restarts', async () => {
    state.pipeline = { ready: false, restarts: 1 };
    const answer = await httpRequest(endpoint.url, { path: '/healthz' });
    assert.equal(answer.status, 503);
    const body = JSON.parse(answer.body);
    assert.equal(body.status, 'unavailable');
    assert.equal(body.reason, 'pipeline process restarting');
    assert.deepEqual(body.pipeline, { ready: false, restarts: 1 });
    state.pipeline = { ready: true, restarts: 1 };
    assert.equal((await httpRequest(endpoint.url, { path: '/healthz' })).status, 200, 'healthy again once the new process is ready');
  });

  it('GET /healthz is 503 while the Discord client is disconnected, with every reason', async () => {
    state.discord = { ready: false, status: 'Resuming' };
    let answer = await httpRequest(endpoint.url, { path: '/healthz' });
    assert.equal(answer.status, 503);
    assert.equal(JSON.parse(answer.body).reason, 'Discord gateway not ready (Resuming)');
    state.pipeline = { ready: false, restarts: 0 };
    state.stopping = true;
    answer = await httpRequest(endpoint.url, { path: '/healthz?verbose=1' });
    assert.equal(answer.status, 503);
    assert.equal(JSON.parse(answer.body).reason, 'shutting down; Discord gateway not ready (Resuming); pipeline process starting');
    Object.assign(state, { discord: { ready: true, status: 'Ready' }, pipeline: { ready: true, restarts: 1 }, stopping: false });
  });

  it('GET /metrics answers Prometheus text with the current gauges', async () => {
    state.queue = { waiting: 2, running: 1 };
    state.discord = { ready: false, status: 'Reconnecting' };
    const answer = await httpRequest(endpoint.url, { path: '/metrics' });
    state.discord = { ready: true, status: 'Ready' };
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(sampleValue(answer.body, 'latentcord_queue_length'), 2);
    assert.equal(sampleValue(answer.body, 'latentcord_jobs_running'), 1);
    assert.equal(sampleValue(answer.body, 'latentcord_discord_ready'), 0);
    assert.equal(sampleValue(answer.body, 'latentcord_discord_gateway_status{status="Reconnecting"}'), 1);
    assert.equal(sampleValue(answer.body, 'latentcord_discord_gateway_status{status="Ready"}'), 0);
    assert.match(answer.body, /^# TYPE latentcord_jobs_total counter$/m);
  });

  it('HEAD answers like GET without a body', async () => {
    const answer = await httpRequest(endpoint.url, { method: 'HEAD', path: '/healthz' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '');
    assert.ok(Number(answer.headers['content-length']) > 0);
  });

  it('other paths are 404, whatever the method', async () => {
    for (const path of ['/', '/health', '/metrics/', '/healthz/x', '/favicon.ico']) {
      assert.equal((await httpRequest(endpoint.url, { path })).status, 404, path);
    }
    assert.equal((await httpRequest(endpoint.url, { method: 'POST', path: '/nope' })).status, 404);
  });

  it('other methods on the two routes are 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const path of ['/healthz', '/metrics']) {
        const answer = await httpRequest(endpoint.url, { method, path });
        assert.equal(answer.status, 405, `${method} ${path}`);
        assert.equal(answer.headers['allow'], 'GET, HEAD');
      }
    }
  });

  it('a second endpoint on the same port is refused with a UserError', async () => {
    await assert.rejects(
      startHttpEndpoint({
        host: '127.0.0.1',
        port: endpoint.address.port,
        health: () => checkHealth(providers),
        metrics: async () => ({ contentType: 'text/plain', body: '' }),
      }),
      (error: unknown) => error instanceof UserError && error.identifier === 'http.listen' && /EADDRINUSE/.test(error.message),
    );
  });
});

describe('HTTP endpoint shutdown', () => {
  it('close() ends idle keep-alive connections and stops listening', async () => {
    const { providers } = stubStatus();
    const endpoint = await startHttpEndpoint({
      host: '127.0.0.1',
      port: 0,
      health: () => checkHealth(providers),
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
    });
    const socket = connect(endpoint.address.port, '127.0.0.1');
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const firstAnswer = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    assert.match(await firstAnswer, /^HTTP\/1\.1 200 /);
    await endpoint.close();
    await socketClosed;
    await assert.rejects(httpRequest(endpoint.url, { path: '/healthz' }), /ECONNREFUSED/);
  });

  it('a metrics renderer that fails gives 500, not a hung request', async () => {
    const { providers } = stubStatus();
    const endpoint = await startHttpEndpoint({
      host: '127.0.0.1',
      port: 0,
      health: () => checkHealth(providers),
      metrics: async () => {
        throw new Error('collector broke');
      },
    });
    try {
      const answer = await httpRequest(endpoint.url, { path: '/metrics' });
      assert.equal(answer.status, 500);
      assert.doesNotMatch(answer.body, /collector broke/, 'internal errors are not shown');
    } finally {
      await endpoint.close();
    }
  });
});
