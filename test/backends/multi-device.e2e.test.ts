import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { startBotWorld, type BotWorld } from '../bot/bot-world.js';
import { e2eOnRedis } from '../scale/remote-backend-world.js';

/** A job that holds a pipeline for several seconds (the tiny model at 256×256 on one thread). */
const slow = { width: 256, height: 256, steps: 120 };

function resultOf(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: 120_000 });
}

function running(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => /step [1-9]\d*\/\d+/.test(m.content), { timeoutMs: 60_000 });
}

describe('several local pipeline processes (LATENTCORD_DEVICE_IDS, real bot, fake Discord)', {
  skip: e2eOnRedis && 'local pipelines only',
}, () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld({
      config: { guildDefaults: { maxSteps: 150 } },
      env: { LATENTCORD_DEVICE_IDS: '0,1', LATENTCORD_THREADS: '1' },
    });
  });
  after(async () => {
    await world?.close();
  });

  it('starts one pipeline process per device and draws two jobs at once', async () => {
    const ready = await world.bot.waitForLog((line) => line.msg === 'pipeline ready');
    assert.equal((ready['pipelinePids'] as number[]).length, 2);
    const { discord, channel, alice, bob, admin } = world;
    const first = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a slow owl', seed: '1', ...slow },
    });
    const second = discord.sendSlashCommand({
      user: bob,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a slow fox', seed: '2', ...slow },
    });
    await Promise.all([running(first), running(second)]);
    // With one pipeline the second job would only show steps after the first one's result.
    assert.ok(!first.steps.some((step) => step.kind === 'originalEdited' && step.message.attachments.length > 0), 'both drawn at once');

    const listing = await discord.sendSlashCommand({ user: admin, channelId: channel.id, name: 'queue' }).waitForResponse();
    const content = (listing.data as { content?: string }).content ?? '';
    assert.match(content, /🖥️ \*\*Workers \(2, \d busy\):\*\*/);
    assert.match(content, /• local 1 · tiny-sd · cpu · (busy|idle)\n• local 2 · tiny-sd · cpu · (busy|idle)/);
    const forMember = await discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'queue' }).waitForResponse();
    assert.doesNotMatch((forMember.data as { content?: string }).content ?? '', /Workers/, 'only admins see the pipelines');

    const [a, b] = await Promise.all([resultOf(first), resultOf(second)]);
    assert.equal(a.attachments.length, 1, a.content);
    assert.equal(b.attachments.length, 1, b.content);
  });
});
