import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { attachmentsOf, buttonIds, startBotWorld, type BotWorld } from '../bot/bot-world.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { otherModelCopy, until } from './scale-harness.js';
import { fastScale, startWorker, type WorkerProcess } from './worker-process.js';

/** A job that keeps a worker busy for several seconds (the tiny model at 256×256, one thread). */
const slow = { width: 256, height: 256, steps: 150 };
const prefix = 'e2e';

function resultOf(handle: InteractionHandle, timeoutMs = 120_000): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs });
}

function running(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => /step [1-9]\d*\/\d+/.test(m.content), { timeoutMs: 60_000 });
}

/** The bot's job id of the request with this prompt (from its `job submitted` line). */
async function jobIdOf(world: BotWorld, prompt: string): Promise<string> {
  const line = await world.bot.waitForLog((l) => l.msg === 'job submitted' && l['prompt'] === prompt, 30_000);
  return String(line['job']);
}

/** The worker a job started on (from the workers' `job started` lines), waiting for it. */
async function workerRunning(workers: readonly WorkerProcess[], jobId: string, after = 0): Promise<WorkerProcess> {
  let found: WorkerProcess | undefined;
  await until(
    () => {
      found = workers.find((w) => w.logs.some((l, i) => i >= after && l.msg === 'job started' && (l['jobs'] as string[]).includes(jobId)));
      return found !== undefined;
    },
    `job ${jobId} started on a worker`,
    60_000,
  );
  return found!;
}

function finishedOn(worker: WorkerProcess, jobId: string) {
  return worker.logs.filter((l) => l.msg === 'job finished' && l['jobId'] === jobId);
}

describe('remote workers on BullMQ/Redis (real redis-server, two worker processes, real bot, fake Discord)', () => {
  let redis: RedisServer;
  let world: BotWorld;
  const workers: WorkerProcess[] = [];
  const start = async (name: string, modelDir?: string) => {
    const worker = await startWorker({ name, redisUrl: redis.url, config: { scale: { prefix } }, ...(modelDir ? { modelDir } : {}) });
    workers.push(worker);
    return worker;
  };

  before(async () => {
    redis = await startRedis();
    await Promise.all([start('worker-a'), start('worker-b')]);
    world = await startBotWorld({
      config: { guildDefaults: { maxSteps: 150, userQueueLimit: 3 }, scale: { ...fastScale, prefix, lostJobGraceSeconds: 30 } },
      env: { LATENTCORD_REDIS_URL: redis.url },
    });
    await world.bot.waitForLog((l) => l.msg === 'worker joined' && l['worker'] === 'worker-b');
    await world.bot.waitForLog((l) => l.msg === 'worker joined' && l['worker'] === 'worker-a');
  });
  after(async () => {
    await world?.close();
    await Promise.all(workers.map((worker) => worker.kill()));
    await redis?.close();
  });

  it('spreads jobs over both workers; each worker logs `job finished` with jobId and worker; admins see the workers', async () => {
    const { discord, channel, alice, bob, admin } = world;
    const prompts = ['a red kite', 'a blue kite', 'a green kite', 'a white kite'];
    const handles = prompts.map((prompt, i) =>
      discord.sendSlashCommand({
        user: i % 2 === 0 ? alice : bob,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt, seed: String(i + 1), width: 128, height: 128, steps: 60 },
      }),
    );
    await Promise.all(handles.slice(0, 2).map(running));
    const listing = await discord.sendSlashCommand({ user: admin, channelId: channel.id, name: 'queue' }).waitForResponse();
    const content = (listing.data as { content?: string }).content ?? '';
    assert.match(content, /🖥️ \*\*Workers \(2, \d busy\):\*\*/);
    assert.match(content, /• worker-a · tiny-sd · cpu · (busy|idle) · \d+ done\n• worker-b · tiny-sd · cpu · (busy|idle) · \d+ done/);

    const results = await Promise.all(handles.map((handle) => resultOf(handle)));
    for (const result of results) assert.equal(result.attachments.length, 1, result.content);
    const ids = await Promise.all(prompts.map((prompt) => jobIdOf(world, prompt)));
    const byWorker = workers.map((worker) => ids.filter((id) => finishedOn(worker, id).length > 0));
    assert.ok(
      byWorker.every((done) => done.length > 0),
      `both workers drew: ${JSON.stringify(byWorker)}`,
    );
    for (const id of ids) {
      const lines = workers.flatMap((worker) => finishedOn(worker, id));
      assert.equal(lines.length, 1, `one job finished line for ${id}`);
      assert.equal(lines[0]!['outcome'], 'succeeded');
      assert.ok(['worker-a', 'worker-b'].includes(String(lines[0]!['worker'])));
    }
  });

  it('a worker killed mid-job: the job runs once more on the other worker and the user gets one result, the picture its seed gives', async () => {
    const { discord, channel, alice } = world;
    const options = { prompt: 'a lighthouse in a storm', seed: '4242', ...slow };
    const handle = discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options });
    await running(handle);
    const jobId = await jobIdOf(world, options.prompt);
    const victim = await workerRunning(workers, jobId);
    const survivor = workers.find((worker) => worker !== victim && worker.process.exitCode === null)!;
    await victim.kill();
    const result = await resultOf(handle, 180_000);
    assert.equal(result.attachments.length, 1, result.content);
    const retried = await survivor.waitForLog((l) => l.msg === 'job started' && (l['jobs'] as string[]).includes(jobId));
    assert.equal(retried['retryOf'], 'a worker that stopped');
    assert.equal(finishedOn(survivor, jobId).length, 1);
    assert.equal(
      handle.steps.filter((step) => step.kind === 'originalEdited' && step.message.attachments.length > 0).length,
      1,
      'one result message',
    );
    await world.bot.waitForLog((l) => l.msg === 'remote job stalled (its worker stopped); BullMQ retries it once');

    // The same request again (on the survivor) gives the very same PNG: the retry drew what the seed gives.
    const again = await resultOf(discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options }));
    assert.deepEqual(attachmentsOf(discord, again), attachmentsOf(discord, result));

    workers.splice(workers.indexOf(victim), 1);
    await start(victim.name); // the name is free again once the dead process's heartbeat ran out
  });

  it('cancel reaches a running remote job between steps', async () => {
    const { discord, channel, bob } = world;
    const options = { prompt: 'a job to cancel', seed: '9', ...slow };
    const handle = discord.sendSlashCommand({ user: bob, channelId: channel.id, name: 'imagine', options });
    const shown = await running(handle);
    const jobId = await jobIdOf(world, options.prompt);
    const worker = await workerRunning(workers, jobId);
    const cancel = buttonIds(shown).find((id) => id.startsWith('lc:cancel:'))!;
    discord.clickButton({ user: bob, message: shown, customId: cancel });
    const ended = await resultOf(handle);
    assert.match(ended.content, /cancelled/i);
    const line = await worker.waitForLog((l) => l.msg === 'job finished' && l['jobId'] === jobId);
    assert.equal(line['outcome'], 'cancelled');
    await world.bot.waitForLog((l) => l.msg === 'job finished' && l['job'] === jobId && l['outcome'] === 'cancelled');
  });

  it('a job whose retry also lost its worker: the user is told it was interrupted', async () => {
    const { discord, channel, alice } = world;
    const options = { prompt: 'an unlucky picture', seed: '13', ...slow };
    const handle = discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options });
    await running(handle);
    const jobId = await jobIdOf(world, options.prompt);
    const first = await workerRunning(workers, jobId);
    const second = workers.find((worker) => worker !== first)!;
    const mark = second.logs.length;
    await first.kill();
    await workerRunning([second], jobId, mark);
    await second.kill();
    workers.length = 0;
    // A fresh worker's stalled check finds the job stalled a second time: BullMQ fails it.
    await start('worker-c');
    const ended = await resultOf(handle, 180_000);
    assert.match(ended.content, /stopped before it was done.*Please ask again/);
    await world.bot.waitForLog((l) => l.msg === 'job finished' && l['job'] === jobId && l['error'] === 'worker.lost');
    await start('worker-d');
  });

  it('Redis killed and restarted mid-queue: new jobs are refused meanwhile, the bot keeps answering, and recovers by itself', async () => {
    const { discord, channel, alice, bob, admin } = world;
    const inFlight = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'drawn while redis dies', seed: '21', ...slow },
    });
    await running(inFlight);
    await redis.kill();
    try {
      await world.bot.waitForLog((l) => l.msg === 'redis unreachable: new jobs are refused until it is back');
      await discord
        .sendSlashCommand({ user: bob, channelId: channel.id, name: 'imagine', options: { prompt: 'refused' } })
        .waitFor((step) => JSON.stringify(step).includes("can't reach its image workers right now"), { timeoutMs: 20_000 });
      const followUp = await discord.sendSlashCommand({ user: admin, channelId: channel.id, name: 'queue' }).waitForResponse();
      assert.match(JSON.stringify(followUp.data), /Drawing|Nothing is being drawn/, 'the bot answers /queue while Redis is down');
    } finally {
      await redis.restart(); // empty: it kept nothing
    }
    await world.bot.waitForLog((l) => l.msg === 'redis reachable again');
    const lost = await resultOf(inFlight, 120_000);
    assert.match(lost.content, /stopped before it was done/);
    // The restarted Redis is empty: the workers' next heartbeats announce them again, and until the bot has read
    // one it refuses new jobs with "no image worker". The recovery asserted is that a later request is drawn.
    let fresh: ApiMessage | undefined;
    await until(
      async () => {
        const reply = await resultOf(
          discord.sendSlashCommand({
            user: bob,
            channelId: channel.id,
            name: 'imagine',
            options: { prompt: 'after the outage', seed: '22' },
          }),
        );
        if (reply.content.includes('No image worker is running')) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          return false;
        }
        fresh = reply;
        return true;
      },
      'a request after the outage is drawn',
      120_000,
    );
    assert.equal(fresh!.attachments.length, 1, fresh!.content);
  });

  it('a worker serving another model does not take this bot’s jobs; they are refused while no worker serves it', async () => {
    const { discord, channel, alice, admin } = world;
    const other = otherModelCopy();
    try {
      await Promise.all(workers.map((worker) => worker.stop()));
      workers.length = 0;
      const stranger = await start('worker-other', other.dir);
      await until(() => world.bot.logs.some((l) => l.msg === 'worker left'), 'the bot saw the workers leave');
      await world.bot.waitForLog((l) => l.msg === 'worker joined' && l['worker'] === 'worker-other');
      const refused = discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'nobody draws this' },
      });
      const response = await refused.waitFor(
        (step) => JSON.stringify(step).includes("No image worker is running for this bot's model (tiny-sd)"),
        { timeoutMs: 20_000 },
      );
      assert.ok(response);
      const listing = await discord.sendSlashCommand({ user: admin, channelId: channel.id, name: 'queue' }).waitForResponse();
      assert.match(
        (listing.data as { content?: string }).content ?? '',
        /• worker-other · tiny-sd@[0-9a-f]{12} \(another model\) · cpu · idle/,
      );
      assert.equal(stranger.logs.filter((l) => l.msg === 'job started').length, 0);

      await start('worker-e');
      await world.bot.waitForLog((l) => l.msg === 'worker joined' && l['worker'] === 'worker-e');
      const served = await resultOf(
        discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'drawn by the right worker' } }),
      );
      assert.equal(served.attachments.length, 1, served.content);
    } finally {
      other.remove();
    }
  });
});
