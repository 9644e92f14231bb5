import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { gatewayStatusOf } from '../../src/bot/bot.js';
import {
  LatentcordMetrics,
  checkHealth,
  pipelineStatusOf,
  startHttpEndpoint,
  watchPipelineRestarts,
  type HttpEndpoint,
  type StatusProviders,
} from '../../src/metrics/index.js';
import { defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { PipelineWorker } from '../../src/worker/pipeline-worker.js';
import { FakeDiscord } from '../fake-discord/index.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { httpRequest, sampleValue } from './http-client.js';

const { log: _log, ...runtime } = defaultRuntimeOptions;
const readyDiscord = () => ({ ready: true, status: 'Ready' });
const emptyQueue = () => ({ waiting: 0, running: 0 });

describe('health of a real pipeline process', () => {
  let worker: PipelineWorker;
  let endpoint: HttpEndpoint;
  let metrics: LatentcordMetrics;
  before(async () => {
    worker = await PipelineWorker.start({ modelDir: tinyModelDir, runtime });
    const status: StatusProviders = { discord: readyDiscord, pipeline: () => pipelineStatusOf(worker), queue: emptyQueue };
    metrics = new LatentcordMetrics({ status, processMetrics: false });
    watchPipelineRestarts(metrics, worker);
    endpoint = await startHttpEndpoint({
      host: '127.0.0.1',
      port: 0,
      health: () => checkHealth(status),
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
    });
  });
  after(async () => {
    await endpoint?.close();
    await worker?.close();
  });

  it('is 200 while loaded, 503 while the process is replaced after a crash, 200 once the new one is ready', async () => {
    const { loadMs, ...first } = pipelineStatusOf(worker);
    assert.deepEqual(first, { ready: true, restarts: 0, stage: 'ready' });
    assert.ok(loadMs! > 0);
    assert.equal((await httpRequest(endpoint.url, { path: '/healthz' })).status, 200);

    // Hold the replacement process before it can load anything, so "restarting" lasts until the test lets go.
    const replacement = new Promise<number>((resolve) => worker.once('restart', () => setImmediate(() => resolve(worker.pid!))));
    const crashed = worker.pid!;
    worker.kill();
    const pid = await replacement;
    assert.notEqual(pid, crashed);
    process.kill(pid, 'SIGSTOP');
    try {
      assert.deepEqual(pipelineStatusOf(worker), { ready: false, restarts: 1, stage: 'loading' });
      const answer = await httpRequest(endpoint.url, { path: '/healthz' });
      assert.equal(answer.status, 503);
      assert.equal(JSON.parse(answer.body).reason, 'pipeline process restarting');
      const text = (await httpRequest(endpoint.url, { path: '/metrics' })).body;
      assert.equal(sampleValue(text, 'latentcord_pipeline_ready'), 0);
      assert.equal(sampleValue(text, 'latentcord_pipeline_restarts_total'), 1);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await worker.whenReady();
    const answer = await httpRequest(endpoint.url, { path: '/healthz' });
    assert.equal(answer.status, 200);
    const { ready, restarts, stage } = JSON.parse(answer.body).pipeline;
    assert.deepEqual({ ready, restarts, stage }, { ready: true, restarts: 1, stage: 'ready' });
    assert.equal(sampleValue(await metrics.render(), 'latentcord_pipeline_ready'), 1);
  });
});

describe('health of a real discord.js client (fake Discord)', () => {
  let discord: FakeDiscord;
  let client: Client;
  before(async () => {
    discord = await FakeDiscord.start({ heartbeatIntervalMs: 250 });
    const guild = discord.createGuild({ name: 'Test Guild' });
    discord.createChannel(guild.id, { name: 'general' });
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: discord.apiUrl } });
  });
  after(async () => {
    await client?.destroy();
    await discord?.close();
  });

  const healthOf = () =>
    checkHealth({ discord: () => gatewayStatusOf(client), pipeline: () => ({ ready: true, restarts: 0 }), queue: emptyQueue });

  it('is unavailable before login, ok once ready', async () => {
    assert.deepEqual(gatewayStatusOf(client), { ready: false, status: 'Idle' });
    assert.equal(healthOf().body.reason, 'Discord gateway not ready (Idle)');
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(discord.botToken);
    await ready;
    assert.deepEqual(gatewayStatusOf(client), { ready: true, status: 'Ready' });
    assert.equal(healthOf().healthy, true);
  });

  it('is unavailable while the gateway connection is lost and healthy again after the resume', async () => {
    const seen = new Promise<ReturnType<typeof healthOf>>((resolve) => client.once(Events.ShardReconnecting, () => resolve(healthOf())));
    const resumed = new Promise<void>((resolve) => client.once(Events.ShardResume, () => resolve()));
    assert.equal(discord.dropGatewayConnection('abnormal'), 1);
    const during = await seen;
    assert.equal(during.healthy, false);
    assert.equal(during.body.discord.ready, false);
    assert.match(String(during.body.reason), /^Discord gateway not ready \((Connecting|Resuming)\)$/);
    await resumed;
    assert.deepEqual(gatewayStatusOf(client), { ready: true, status: 'Ready' });
    assert.equal(healthOf().healthy, true);
  });
});
