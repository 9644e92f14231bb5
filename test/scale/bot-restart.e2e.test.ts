import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { startBotWorld, type BotWorld } from '../bot/bot-world.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { fastScale, startWorker, type WorkerProcess } from './worker-process.js';

const prefix = 'restart-e2e';

function running(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => /step [1-9]\d*\/\d+/.test(m.content), { timeoutMs: 60_000 });
}

describe('the bot restarted while its jobs are with remote workers (real redis-server, worker, bot, fake Discord)', () => {
  let redis: RedisServer;
  let worker: WorkerProcess;
  let world: BotWorld;

  before(async () => {
    redis = await startRedis();
    worker = await startWorker({ name: 'worker-r', redisUrl: redis.url, config: { scale: { prefix } } });
    world = await startBotWorld({
      config: { guildDefaults: { maxSteps: 150 }, scale: { ...fastScale, prefix } },
      env: { LATENTCORD_REDIS_URL: redis.url },
    });
  });
  after(async () => {
    await world?.close();
    await worker?.kill();
    await redis?.close();
  });

  async function killBot(): Promise<void> {
    const killed = world.bot;
    killed.process.kill('SIGKILL');
    assert.equal((await killed.exited).signal, 'SIGKILL');
  }

  it('a job running when the bot was killed is delivered after the restart, drawn once', async () => {
    const { discord, channel, alice } = world;
    const prompt = 'a picture that outlives its bot';
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt, seed: '31', width: 256, height: 256, steps: 120 },
    });
    const progress = await running(handle);
    const jobId = String((await world.bot.waitForLog((l) => l.msg === 'job submitted' && l['prompt'] === prompt))['job']);
    await killBot();
    await world.restartBot();
    await world.bot.waitForLog((l) => l.msg === 'job resumed: it is still with the remote workers' && l['job'] === jobId);
    const delivered = await discord.waitForMessage(channel.id, (m) => m.attachments.length > 0 && m.content.includes(prompt), {
      timeoutMs: 120_000,
    });
    assert.match(delivered.content, new RegExp(`^<@${alice.id}> `), 'the requester is mentioned');
    const status = await discord.waitForMessage(channel.id, (m) => m.id === progress.id && m.content.startsWith('✅'), {
      timeoutMs: 15_000,
    });
    assert.match(status.content, /done \(the bot restarted meanwhile\)/);
    assert.equal((await world.settledJob(jobId)).status, 'succeeded');
    assert.equal(worker.logs.filter((l) => l.msg === 'job started' && (l['jobs'] as string[]).includes(jobId)).length, 1, 'drawn once');
  });

  it('a job that finished while the bot was down is delivered at the next start', async () => {
    const { discord, channel, bob } = world;
    const prompt = 'finished in the dark';
    const handle = discord.sendSlashCommand({
      user: bob,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt, seed: '32', width: 128, height: 128, steps: 60 },
    });
    await running(handle);
    const jobId = String((await world.bot.waitForLog((l) => l.msg === 'job submitted' && l['prompt'] === prompt))['job']);
    await killBot();
    await worker.waitForLog((l) => l.msg === 'job finished' && l['jobId'] === jobId, 120_000);
    await world.restartBot();
    const delivered = await discord.waitForMessage(channel.id, (m) => m.attachments.length > 0 && m.content.includes(prompt), {
      timeoutMs: 60_000,
    });
    assert.match(delivered.content, new RegExp(`^<@${bob.id}> `));
    assert.equal((await world.settledJob(jobId)).status, 'succeeded');
    assert.equal(worker.logs.filter((l) => l.msg === 'job started' && (l['jobs'] as string[]).includes(jobId)).length, 1, 'drawn once');
  });
});
