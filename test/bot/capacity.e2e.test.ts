import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { ApiMessage, ApiUser } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { buttonIds, privateAnswerOf, resultOf, running, startBotWorld, type BotWorld } from './bot-world.js';

/**
 * Issue 9 item 2: a full queue or a full disk must still answer. The bot used to acknowledge (`deferReply`)
 * while the job was being submitted; a refusal then went out as a second acknowledgement, Discord answered
 * 40060, and the user saw "thinking…" forever. The fake Discord refuses a second acknowledgement as Discord does.
 */

/** A job that holds the pipeline for a second or two (see queue.e2e.test.ts). */
const blockerOptions = { prompt: 'a long blocker', width: 256, height: 256, steps: 30, seed: '1' };

function rerollButtonOf(message: ApiMessage): string {
  const id = buttonIds(message).find((c) => c.startsWith('lc:reroll:'));
  assert.ok(id, `a Reroll button: ${message.content}`);
  return id;
}

async function gradientPng(width: number, height: number): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = i % 251;
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('a full queue still answers /imagine, Reroll and /remix (queue maxLength 1)', () => {
  let world: BotWorld;
  let carol: ApiUser;
  const imagine = (user: ApiUser, options: Record<string, string | number>): InteractionHandle =>
    world.discord.sendSlashCommand({ user, channelId: world.channel.id, name: 'imagine', options: { prompt: 'x', ...options } });

  before(async () => {
    world = await startBotWorld({ config: { queue: { maxLength: 1 } } });
    carol = world.discord.createUser({ username: 'carol' });
    world.discord.addMember(world.guild.id, carol.id);
  });
  after(async () => {
    await world?.close();
  });

  it('refuses privately with the reason, never with a second acknowledgement, and serves again once there is room', async () => {
    const { discord, channel, alice, bob, admin } = world;
    const earlier = await resultOf(imagine(alice, { prompt: 'an earlier picture', seed: '2' }));
    assert.equal(earlier.attachments.length, 1, earlier.content);

    const blocker = imagine(admin, blockerOptions);
    await running(blocker);
    const waiting = imagine(bob, { prompt: 'the one waiting', width: 80 });
    await waiting.waitForOriginal((m) => m.content.includes('queued — position **1**'), { timeoutMs: 15_000 });

    const refused = imagine(carol, { prompt: 'one too many' });
    assert.match(await privateAnswerOf(refused), /^❌ The queue is full \(1 job waiting\)\. Try again in a few minutes\.$/);

    const reroll = discord.clickButton({ user: alice, message: earlier, customId: rerollButtonOf(earlier) });
    assert.match(await privateAnswerOf(reroll), /^❌ The queue is full/);

    const cdnRequests = discord.requests.filter((r) => r.kind === 'cdn').length;
    const remix = discord.sendSlashCommand({
      user: carol,
      channelId: channel.id,
      name: 'remix',
      options: { prompt: 'a remix too many', image: { data: await gradientPng(64, 64), filename: 'p.png', contentType: 'image/png' } },
    });
    assert.match(await privateAnswerOf(remix), /^❌ The queue is full/);
    assert.equal(
      discord.requests.filter((r) => r.kind === 'cdn').length,
      cdnRequests,
      'the picture of a remix that cannot be queued is not downloaded',
    );

    for (const handle of [refused, reroll, remix]) {
      assert.deepEqual(
        handle.steps.filter((s) => s.kind === 'callbackRejected'),
        [],
        `no refused acknowledgement: ${handle.describeSteps()}`,
      );
    }
    assert.equal((await resultOf(blocker, 90_000)).attachments.length, 1);
    assert.equal((await resultOf(waiting, 90_000)).attachments.length, 1);
    const again = await resultOf(imagine(carol, { prompt: 'room again' }));
    assert.equal(again.attachments.length, 1, again.content);
  });
});

describe('a full disk still answers /imagine and Reroll, and running jobs are delivered (data folder on a small tmpfs)', () => {
  let world: BotWorld | undefined;
  let disk: Tmpfs | { readonly unavailable: string };

  before(async () => {
    disk = mountTmpfs(16 * 2 ** 20);
    if ('unavailable' in disk) return;
    world = await startBotWorld({
      env: { LATENTCORD_DATA_DIR: disk.dir },
      config: { runtime: { cacheOptimizedModels: false } },
    });
  });
  after(async () => {
    await world?.close();
    if (!('unavailable' in disk)) disk.unmount();
  });

  it('tells the requester the disk is full, logs the cause, and keeps serving once there is space', async (t) => {
    if ('unavailable' in disk) {
      t.skip(disk.unavailable);
      return;
    }
    const bot = world!;
    const { discord, channel, alice, admin } = bot;
    const imagine = (user: ApiUser, options: Record<string, string | number>) =>
      discord.sendSlashCommand({ user, channelId: channel.id, name: 'imagine', options: { prompt: 'x', ...options } });

    const earlier = await resultOf(imagine(alice, { prompt: 'before the disk filled', seed: '3' }));
    assert.equal(earlier.attachments.length, 1, earlier.content);
    const blocker = imagine(admin, blockerOptions);
    await running(blocker);

    assert.ok(disk.fill() > 0, 'the tmpfs was filled');
    const refused = imagine(alice, { prompt: 'no room for this' });
    assert.match(await privateAnswerOf(refused), /^❌ The bot's disk is full, so it cannot take new jobs right now\./);
    const reroll = discord.clickButton({ user: alice, message: earlier, customId: rerollButtonOf(earlier) });
    assert.match(await privateAnswerOf(reroll), /^❌ The bot's disk is full/);
    await bot.bot.waitForLog((line) => line.level >= 50 && /disk is full/.test(line.msg), 15_000);

    // The job that was running when the disk filled is still delivered; only its record could not be updated.
    const delivered = await resultOf(blocker, 90_000);
    assert.equal(delivered.attachments.length, 1, delivered.content);

    disk.free();
    const again = await resultOf(imagine(alice, { prompt: 'room again', seed: '4' }));
    assert.equal(again.attachments.length, 1, again.content);
    assert.equal(bot.bot.process.exitCode, null, 'the bot is still running');
    for (const handle of [refused, reroll]) assert.deepEqual(handle.steps.filter((s) => s.kind === 'callbackRejected').length, 0);
  });
});
