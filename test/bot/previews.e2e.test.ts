import assert from 'node:assert/strict';
import { e2eOnRedis } from '../scale/remote-backend-world.js';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { attachmentsOf, isPreview, resultOf, startBotWorld, type BotWorld } from './bot-world.js';

/** The status-message edits of an interaction that carried a live preview, in order. */
function previewEdits(handle: InteractionHandle): ApiMessage[] {
  return handle.steps
    .flatMap((s) => (s.kind === 'originalEdited' ? [s.message] : []))
    .filter((m) => m.attachments.length > 0 && m.attachments.every((a) => isPreview(a.filename)));
}

// Live previews are drawn by local pipelines only (README, Scaling out).
describe('live previews end to end (real bot process, fake Discord, tiny model)', { skip: e2eOnRedis && 'local pipelines only' }, () => {
  let world: BotWorld;
  before(async () => {
    // Every 2 steps of a long run: previews come while the status message is edited (every 200 ms here).
    world = await startBotWorld({ config: { guildDefaults: { previewEverySteps: 2 } } });
  });
  after(async () => {
    await world?.close();
  });

  it('shows a JPEG preview in the status message while the job runs, then the result replaces it', async () => {
    const { discord, channel, alice } = world;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a lighthouse in a storm', seed: '3', width: 128, height: 96, steps: 50 },
    });
    const result = await resultOf(handle);
    const previews = previewEdits(handle);
    assert.ok(previews.length >= 1, `at least one preview before the result (${handle.steps.map((s) => s.kind).join(' ')})`);
    const first = previews[0]!;
    assert.match(first.content, /step \d+\/50/u, 'the progress text stays with the preview');
    assert.equal(first.attachments.length, 1);
    const [jpeg] = attachmentsOf(discord, first);
    const meta = await sharp(jpeg!).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 128, 96], 'the linear preview at the picture’s size');
    assert.match(first.attachments[0]!.filename, /-step(\d+)\.jpg$/u);
    const step = Number(/-step(\d+)\.jpg$/u.exec(first.attachments[0]!.filename)![1]);
    assert.ok(step % 2 === 0 && step < 50, `drawn after an even step before the last (${step})`);

    assert.deepEqual(
      result.attachments.map((a) => a.filename),
      ['latentcord-3.png'],
      'the result replaces the preview',
    );
    assert.deepEqual(discord.unexpectedRequests(), []);
  });

  it('a job of several pictures previews them side by side; batched jobs each get their own', async () => {
    const { discord, channel, alice, bob } = world;
    const options = { prompt: 'two kites', width: 64, height: 64, steps: 50 };
    const [a, b] = [
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { ...options, seed: '8', count: 2 } }),
      discord.sendSlashCommand({ user: bob, channelId: channel.id, name: 'imagine', options: { ...options, seed: '9' } }),
    ];
    await Promise.all([resultOf(a), resultOf(b)]);
    const [previewA, previewB] = [previewEdits(a)[0], previewEdits(b)[0]];
    assert.ok(previewA && previewB, 'both jobs showed a preview');
    const [metaA, metaB] = await Promise.all([
      sharp(attachmentsOf(discord, previewA)[0]!).metadata(),
      sharp(attachmentsOf(discord, previewB)[0]!).metadata(),
    ]);
    assert.deepEqual([metaA.width, metaA.height], [128, 64], 'two pictures in two columns');
    assert.deepEqual([metaB.width, metaB.height], [64, 64]);
  });

  it('previewEverySteps 0 turns them off', async () => {
    const { discord, channel, admin, alice } = world;
    const set = discord.sendSlashCommand({
      user: admin,
      channelId: channel.id,
      name: 'settings',
      subcommand: 'set',
      options: { key: 'previewEverySteps', value: '0' },
    });
    await set.waitFor((s) => s.kind === 'callback');
    try {
      const handle = discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a quiet sea', width: 64, height: 64, steps: 30 },
      });
      await resultOf(handle);
      assert.deepEqual(previewEdits(handle), []);
    } finally {
      const reset = discord.sendSlashCommand({
        user: admin,
        channelId: channel.id,
        name: 'settings',
        subcommand: 'reset',
        options: { key: 'previewEverySteps' },
      });
      await reset.waitFor((s) => s.kind === 'callback');
    }
  });
});
