import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { planUploads } from '../../src/bot/upload-plan.js';
import { isUserError } from '../../src/errors.js';
import type { ApiMessage } from '../fake-discord/api-types.js';
import { buttonIds, startBotWorld, type BotWorld } from './bot-world.js';

describe('planUploads (files per message within the upload limit)', () => {
  const file = (bytes: number) => Buffer.alloc(bytes);
  it('keeps everything in one message when it fits', () => {
    assert.deepEqual(planUploads([file(10), file(10), file(10)], 100), [[0, 1, 2]]);
  });
  it('starts a new message when the next file would exceed the limit, in order', () => {
    assert.deepEqual(planUploads([file(40), file(40), file(40), file(10)], 100), [
      [0, 1],
      [2, 3],
    ]);
  });
  it('never puts more than 10 files in a message', () => {
    assert.deepEqual(
      planUploads(
        Array.from({ length: 12 }, () => file(1)),
        1000,
      ),
      [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [10, 11],
      ],
    );
  });
  it('refuses a single file over the limit with a UserError', () => {
    assert.throws(
      () => planUploads([file(10), file(200)], 100),
      (e: unknown) => isUserError(e) && e.identifier === 'result.tooLarge',
    );
  });
});

/** The PNGs of the tiny model at 96×64 are 15–20 kB; a 45 kB limit holds two of them per message. */
const limit = 45_000;

describe('results respect the upload limit the interaction reports (real bot, fake Discord)', () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld({ fake: { attachmentSizeLimit: limit } });
  });
  after(async () => {
    await world?.close();
  });

  it('splits the pictures of one job over several messages, the buttons on the first', async () => {
    const { discord, channel, alice } = world;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'four small pictures', seed: '11', width: 96, height: 64, count: 4 },
    });
    const original = await handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: 60_000 });
    assert.ok(original.attachments.length >= 1 && original.attachments.length < 4, `${original.attachments.length} in the first message`);
    await handle.waitFor(() => handle.followUps().reduce((n, m) => n + m.attachments.length, 0) + original.attachments.length >= 4, {
      timeoutMs: 20_000,
    });
    const messages: ApiMessage[] = [handle.original()!, ...handle.followUps()];
    const names = messages.flatMap((m) => m.attachments.map((a) => a.filename));
    assert.deepEqual(names, ['latentcord-11-1.png', 'latentcord-11-2.png', 'latentcord-11-3.png', 'latentcord-11-4.png']);
    for (const message of messages)
      assert.ok(message.attachments.reduce((n, a) => n + a.size, 0) <= limit, 'each message within the limit');
    // Reroll, Remix, Info, Delete, then Vary (Subtle), Vary (Strong) and Upscale ×2 for each of the four pictures.
    assert.equal(buttonIds(messages[0]!).length, 4 + 3 * 4);
    assert.deepEqual(messages.slice(1).flatMap(buttonIds), []);
    assert.deepEqual(discord.unexpectedRequests(), []);
  });

  it('a single picture larger than the limit gets a clear message instead of a failed upload', async () => {
    const { discord, channel, alice } = world;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'one big picture', seed: '12', width: 256, height: 256 },
    });
    const original = await handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: 60_000 });
    assert.match(
      original.content,
      /^❌ \*\*one big picture\*\* — The picture is \d+(?:\.\d+)? KiB, more than this channel's upload limit of 44\.0 KiB\. Try a smaller size\./,
    );
    assert.equal(discord.requests.filter((r) => r.status === 413).length, 0, 'no upload was attempted');
  });
});
