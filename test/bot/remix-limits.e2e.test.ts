import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { ApiUser } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import type { CdnBehavior } from '../fake-discord/store.js';
import { privateAnswerOf, resultOf, startBotWorld, type BotWorld } from './bot-world.js';

/**
 * Issue 9 item 3: limits that hold for remixes. The per-user limit and the cooldown were checked before the
 * picture was downloaded and never again, so remixes sent together all passed (six with a limit of 2 and a 60 s
 * cooldown all ran); and every remix downloaded and decoded its picture at once. The fake CDN holds the
 * downloads until the test lets them go, so every request is checked while the others are still downloading.
 */

/** A gate the test opens. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function sourcePng(): Promise<Buffer> {
  const rgb = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7) % 256;
  return sharp(rgb, { raw: { width: 64, height: 64, channels: 3 } })
    .png()
    .toBuffer();
}

/** The interaction's first answer: 4 (a refusal, privately) or 5 (acknowledged: it went on to download). */
async function firstAnswer(handle: InteractionHandle): Promise<{ type: number; content: string }> {
  const response = await handle.waitForResponse({ timeoutMs: 15_000 });
  return { type: response.type, content: String((response.data as { content?: string } | undefined)?.content ?? '') };
}

describe('limits that hold for remixes (per-user limit 2, at most 3 downloads at once)', () => {
  let world: BotWorld;
  let png: Buffer;
  const extraUsers: ApiUser[] = [];

  const settings = async (subcommand: 'set' | 'reset', options: Record<string, string>) => {
    const handle = world.discord.sendSlashCommand({
      user: world.admin,
      channelId: world.channel.id,
      name: 'settings',
      subcommand,
      options,
    });
    const answer = await privateAnswerOf(handle);
    assert.doesNotMatch(answer, /^❌/, answer);
  };
  const remix = (user: ApiUser, prompt: string, behavior: CdnBehavior): InteractionHandle =>
    world.discord.sendSlashCommand({
      user,
      channelId: world.channel.id,
      name: 'remix',
      options: { prompt, seed: '5', image: world.discord.uploadAttachment(png, 'source.png', 'image/png', { behavior }) },
    });

  before(async () => {
    world = await startBotWorld({ config: { limits: { maxConcurrentDownloads: 3 } } });
    png = await sourcePng();
    for (const name of ['carol', 'dave', 'erin']) {
      const user = world.discord.createUser({ username: name });
      world.discord.addMember(world.guild.id, user.id);
      extraUsers.push(user);
    }
  });
  after(async () => {
    await world?.close();
  });

  it('six remixes sent together by one user with a per-user limit of 2: two run, four are refused before downloading', async () => {
    const downloads = gate();
    const handles = Array.from({ length: 6 }, (_, i) => remix(world.alice, `alice remix ${i + 1}`, { holdUntil: downloads.promise }));
    const answers = await Promise.all(handles.map(firstAnswer));
    const taken = handles.filter((_, i) => answers[i]!.type === 5);
    const refusals = answers.filter((a) => a.type === 4).map((a) => a.content);
    assert.equal(taken.length, 2, `two were taken: ${answers.map((a) => a.type).join(', ')}`);
    assert.equal(refusals.length, 4);
    for (const text of refusals) assert.match(text, /^❌ You already have 2 jobs waiting or running; the limit here is 2\./);
    await world.discord.waitUntil(
      () => (world.discord.cdnDownloads().inFlight === 2 ? true : undefined),
      ['cdn:start'],
      'the two downloads in flight',
    );
    downloads.open();
    for (const handle of taken) assert.equal((await resultOf(handle)).attachments.length, 1);
  });

  it('six remixes sent together with a 60 s cooldown: one runs, five are told to wait', async () => {
    await settings('set', { key: 'cooldownSeconds', value: '60' });
    try {
      const downloads = gate();
      const handles = Array.from({ length: 6 }, (_, i) => remix(world.bob, `bob remix ${i + 1}`, { holdUntil: downloads.promise }));
      const answers = await Promise.all(handles.map(firstAnswer));
      const taken = handles.filter((_, i) => answers[i]!.type === 5);
      assert.equal(taken.length, 1, `one was taken: ${answers.map((a) => a.type).join(', ')}`);
      for (const answer of answers.filter((a) => a.type === 4)) {
        assert.match(answer.content, /^❌ Please wait \d+ more seconds? \(the cooldown here is 60 s\)\.$/);
      }
      downloads.open();
      assert.equal((await resultOf(taken[0]!)).attachments.length, 1);
    } finally {
      await settings('reset', { key: 'cooldownSeconds' });
    }
  });

  it('is checked again when its picture is ready: a cooldown raised during the download refuses it', async () => {
    const [carol] = extraUsers;
    const earlier = await resultOf(
      world.discord.sendSlashCommand({ user: carol!, channelId: world.channel.id, name: 'imagine', options: { prompt: 'first' } }),
    );
    assert.equal(earlier.attachments.length, 1);
    const downloads = gate();
    const handle = remix(carol!, 'carol remix', { holdUntil: downloads.promise });
    assert.equal((await firstAnswer(handle)).type, 5, 'no cooldown yet: taken');
    await settings('set', { key: 'cooldownSeconds', value: '600' });
    try {
      downloads.open();
      assert.match(await privateAnswerOf(handle, 30_000), /^❌ Please wait \d+ more seconds \(the cooldown here is 600 s\)\.$/);
      await handle.waitFor((step) => step.kind === 'originalDeleted', { timeoutMs: 15_000 });
    } finally {
      await settings('reset', { key: 'cooldownSeconds' });
    }
  });

  it('at most 3 pictures download at once: more remixes are refused with "busy, try again", and slots come back', async () => {
    const users = [world.alice, world.bob, world.admin, ...extraUsers.slice(1)];
    // A failed download gives its slot back too.
    const failed = remix(world.admin, 'a broken download', { status: 500 });
    assert.match(await privateAnswerOf(failed, 30_000), /^❌/);

    const downloads = gate();
    const handles = users.map((user) => remix(user, `remix by ${user.username}`, { holdUntil: downloads.promise }));
    const answers = await Promise.all(handles.map(firstAnswer));
    const taken = handles.filter((_, i) => answers[i]!.type === 5);
    assert.equal(taken.length, 3, `three were taken: ${answers.map((a) => a.type).join(', ')}`);
    for (const answer of answers.filter((a) => a.type === 4)) {
      assert.equal(answer.content, "❌ I'm busy fetching other people's pictures right now. Please try again in a moment.");
    }
    await world.discord.waitUntil(
      () => (world.discord.cdnDownloads().inFlight === 3 ? true : undefined),
      ['cdn:start'],
      'three downloads in flight',
    );
    downloads.open();
    for (const handle of taken) assert.equal((await resultOf(handle)).attachments.length, 1);
    assert.ok(world.discord.cdnDownloads().peak <= 3, `never more than 3 downloads at once (peak ${world.discord.cdnDownloads().peak})`);

    const later = gate();
    const again = users.slice(0, 3).map((user) => remix(user, `again by ${user.username}`, { holdUntil: later.promise }));
    assert.deepEqual(
      (await Promise.all(again.map(firstAnswer))).map((a) => a.type),
      [5, 5, 5],
      'every slot came back',
    );
    later.open();
    for (const handle of again) assert.equal((await resultOf(handle)).attachments.length, 1);
  });
});
