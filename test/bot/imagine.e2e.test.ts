import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { readPngText } from '../../src/image/index.js';
import type { ApiMessage } from '../fake-discord/api-types.js';
import { attachmentsOf, buttonIds, startBotWorld, type BotWorld } from './bot-world.js';

/** Waits until the interaction's original message shows a finished result (attachments). */
async function resultOf(handle: {
  waitForOriginal(p: (m: ApiMessage) => boolean, o?: { timeoutMs?: number }): Promise<ApiMessage>;
}): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => (m.attachments ?? []).length > 0 || m.content.startsWith('❌'), { timeoutMs: 60_000 });
}

describe('/imagine end to end (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld();
  });
  after(async () => {
    await world?.close();
  });

  it('registered its commands at start-up', () => {
    const names = world.discord
      .commands()
      .map((c) => c.name)
      .sort();
    assert.deepEqual(names, ['Remix', 'history', 'imagine', 'queue', 'remix', 'settings']);
    const settings = world.discord.commands().find((c) => c.name === 'settings')!;
    assert.equal(settings.default_member_permissions, String(1n << 5n), 'Manage Server');
  });

  it('acknowledges at once, shows progress, and delivers a PNG with its parameters and buttons', async () => {
    const { discord, channel, alice } = world;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a running dog', seed: '42', width: 96, height: 64, steps: 6, negative: 'blur' },
    });
    const response = await handle.waitForResponse();
    assert.equal(response.type, 5, 'deferred (thinking…) reply');
    assert.ok(handle.steps[0]!.elapsedMs < 3000);
    const message = await resultOf(handle);
    assert.match(message.content, new RegExp(`^<@${alice.id}> \\*\\*a running dog\\*\\*`));
    assert.match(message.content, /seed `42` · 96×64 · 6 steps · Euler · CFG 7\.5/);
    assert.deepEqual(
      message.mentions.map((u) => u.id),
      [alice.id],
      'only the requester is pinged',
    );
    assert.equal(message.attachments.length, 1);
    assert.equal(message.attachments[0]!.filename, 'latentcord-42.png');
    const [png] = attachmentsOf(discord, message);
    const metadata = await sharp(png!).metadata();
    assert.deepEqual([metadata.format, metadata.width, metadata.height], ['png', 96, 64]);
    assert.equal(
      readPngText(png!)['parameters'],
      'a running dog\nNegative prompt: blur\nSteps: 6, Sampler: Euler, CFG scale: 7.5, Seed: 42, Size: 96x64, Model: tiny-sd, RNG: CPU',
    );
    const ids = buttonIds(message);
    assert.deepEqual(
      ids.map((id) => id.split(':')[1]),
      ['reroll', 'remix', 'info', 'delete', 'vary-subtle', 'vary-strong', 'upscale'],
    );
    const progressEdits = handle.steps.filter((s) => s.kind === 'originalEdited');
    assert.ok(progressEdits.length >= 2, `progress was shown (${progressEdits.length} edits)`);
    assert.deepEqual(discord.unexpectedRequests(), []);
  });

  it('gives the same picture for the same seed (the Reroll of a fixed seed differs)', async () => {
    const { discord, channel, alice } = world;
    const options = { prompt: 'a castle', seed: '7', width: 64, height: 64, steps: 4 };
    const first = await resultOf(discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options }));
    const second = await resultOf(discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options }));
    const [a] = attachmentsOf(discord, first);
    const [b] = attachmentsOf(discord, second);
    assert.deepEqual(await sharp(a!).raw().toBuffer(), await sharp(b!).raw().toBuffer());

    const reroll = discord.clickButton({ user: alice, message: first, customId: buttonIds(first)[0]! });
    const rerolled = await resultOf(reroll);
    assert.match(rerolled.content, /a castle/);
    assert.doesNotMatch(rerolled.content, /seed `7`/, 'a new seed');
    const [c] = attachmentsOf(discord, rerolled);
    assert.notDeepEqual(await sharp(c!).raw().toBuffer(), await sharp(a!).raw().toBuffer());
  });

  it('Info shows the parameters privately; Delete is refused to others and works for the owner', async () => {
    const { discord, channel, alice, bob } = world;
    const message = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a lighthouse', seed: '5' } }),
    );
    const [, , infoId, deleteId] = buttonIds(message);
    const info = discord.clickButton({ user: bob, message, customId: infoId! });
    const infoResponse = await info.waitForResponse();
    assert.equal(infoResponse.type, 4);
    assert.equal((infoResponse.data as { flags?: number }).flags! & 64, 64, 'ephemeral');
    assert.match(String((infoResponse.data as { content?: string }).content), /\*\*Seed:\*\* `5`/);

    const refused = discord.clickButton({ user: bob, message, customId: deleteId! });
    const refusal = await refused.waitForResponse();
    assert.equal((refusal.data as { flags?: number }).flags! & 64, 64);
    assert.match(String((refusal.data as { content?: string }).content), /Only the person who asked/);
    assert.ok(discord.message(message.id), 'still there');

    const deleted = discord.clickButton({ user: alice, message, customId: deleteId! });
    await deleted.waitFor((step) => step.kind === 'originalDeleted', { timeoutMs: 10_000 });
    assert.equal(
      discord.messages(channel.id).some((m) => m.id === message.id),
      false,
    );
  });

  it('several images per job arrive in one message', async () => {
    const { discord, channel, alice } = world;
    const message = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'two cats', seed: '3', count: 2 },
      }),
    );
    assert.deepEqual(
      message.attachments.map((a) => a.filename),
      ['latentcord-3-1.png', 'latentcord-3-2.png'],
    );
  });
});
