import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { ApiChannel } from '../fake-discord/api-types.js';
import { startBotWorld, type BotWorld } from '../bot/bot-world.js';

const shardOf = (id: string, count: number): number => Number((BigInt(id) >> 22n) % BigInt(count));

describe("shards: 'auto' (real bot, fake Discord recommending 2 shards)", () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld({ fake: { recommendedShards: 2, maxConcurrency: 2 } });
  });
  after(async () => {
    await world?.close();
  });

  it('opens the shards Discord recommends and serves servers on each of them', async () => {
    const { discord, alice } = world;
    const sessions = discord.gatewaySessions().filter((session) => session.connected && !session.invalidated);
    assert.deepEqual(sessions.map((session) => session.shard).sort(), [
      [0, 2],
      [1, 2],
    ]);
    // A server on each shard (ids made in the same millisecond share a shard: spread them out).
    const channels = new Map<number, ApiChannel>();
    for (let i = 0; channels.size < 2 && i < 50; i++) {
      const guild = discord.createGuild({ name: `server ${i}` });
      discord.addMember(guild.id, alice.id);
      const shard = shardOf(guild.id, 2);
      if (!channels.has(shard)) channels.set(shard, discord.createChannel(guild.id, { name: 'art' }));
      await delay(2);
    }
    assert.equal(channels.size, 2, 'a server on each shard');
    for (const [shard, channel] of channels) {
      const result = await discord
        .sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: `a picture on shard ${shard}` } })
        .waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: 60_000 });
      assert.equal(result.attachments.length, 1, `shard ${shard}: ${result.content}`);
    }
  });
});
