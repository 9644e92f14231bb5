import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { noSafetyCheckerNote } from '../../commands/settings.js';
import { attachmentIsSpoiler } from '../fake-discord/core.js';
import type { ApiChannel, ApiMessage, ApiUser } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { writeSafetyChecker } from '../support/onnx/safety-checker-graphs.js';
import { privateAnswerOf, resultOf, startBotWorld, type BotWorld } from './bot-world.js';

/**
 * Issue 9 item 1 (the bot's policy): pictures the model folder's safety checker flags follow the server's `nsfw`
 * settings, decided before anything is uploaded. The model is the tiny test model plus a safety-checker-shaped
 * graph that flags every picture (or none), so the verdict is known in advance.
 */

/** The tiny model's folder with a safety checker that flags every picture (`all`) or none. */
function modelWithChecker(flags: 'all' | 'none'): string {
  const dir = mkdtempSync(join(tmpdir(), `latentcord-checked-model-${flags}-`));
  for (const entry of readdirSync(tinyModelDir)) symlinkSync(join(tinyModelDir, entry), join(dir, entry));
  writeSafetyChecker(dir, { flags });
  return dir;
}

/** The private (ephemeral) follow-up of a deferred interaction. */
async function privateFollowUp(handle: InteractionHandle): Promise<ApiMessage> {
  const step = await handle.waitFor((s) => s.kind === 'followUp' && (s.message.flags & 64) === 64, { timeoutMs: 60_000 });
  assert.ok(step.kind === 'followUp');
  return step.message;
}

/** Every attachment any message of this interaction ever carried (its original and its follow-ups, at every edit). */
function everyAttachment(handle: InteractionHandle): string[] {
  return handle.steps.flatMap((s) => {
    if (s.kind === 'followUp' || s.kind === 'followUpEdited' || s.kind === 'originalEdited') {
      return (s.message.attachments ?? []).map((a) => a.filename);
    }
    return [];
  });
}

function isSpoiler(message: ApiMessage): boolean {
  const [attachment] = message.attachments;
  assert.ok(attachment, message.content);
  const named = attachment.filename.startsWith('SPOILER_');
  assert.equal(((attachment.flags ?? 0) & attachmentIsSpoiler) !== 0, named, 'Discord flags SPOILER_ files as spoilers');
  return named;
}

describe('NSFW policy with a safety checker that flags every picture', () => {
  let world: BotWorld;
  let modelDir: string;
  let adults: ApiChannel;

  const imagine = (user: ApiUser, channelId: string, prompt: string, extra: Record<string, string | number> = {}) =>
    world.discord.sendSlashCommand({ user, channelId, name: 'imagine', options: { prompt, ...extra } });
  const setting = async (subcommand: 'set' | 'reset', options: Record<string, string>) => {
    const answer = await privateAnswerOf(
      world.discord.sendSlashCommand({ user: world.admin, channelId: world.channel.id, name: 'settings', subcommand, options }),
    );
    assert.match(answer, /^✅/, answer);
  };
  /** Waits until the original reply is either a result or the public "not posted" line. */
  const outcomeOf = (handle: InteractionHandle) =>
    handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('🚫') || m.content.startsWith('❌'), {
      timeoutMs: 60_000,
    });

  before(async () => {
    modelDir = modelWithChecker('all');
    world = await startBotWorld({ env: { LATENTCORD_MODEL_DIR: modelDir } });
    adults = world.discord.createChannel(world.guild.id, { name: 'adults', nsfw: true });
  });
  after(async () => {
    await world?.close();
    rmSync(modelDir, { recursive: true, force: true });
  });

  it('logs at start-up that a checker is loaded, and /settings show has no warning', async () => {
    const line = await world.bot.waitForLog((l) => /^safety checker loaded/.test(l.msg), 10_000);
    assert.match(String(line['safetyChecker']), /safety_checker[/\\]model\.onnx$/);
    const shown = await privateAnswerOf(
      world.discord.sendSlashCommand({ user: world.admin, channelId: world.channel.id, name: 'settings', subcommand: 'show' }),
    );
    assert.ok(!shown.includes(noSafetyCheckerNote), shown);
    assert.match(shown, /`nsfw` block/);
    assert.match(shown, /`nsfwAgeRestricted` spoiler/);
    assert.match(shown, /`requireAgeRestrictedChannel` off/);
  });

  it('default (nsfw block): a flagged picture is never uploaded; the channel sees a neutral line, the requester why', async () => {
    const handle = imagine(world.alice, world.channel.id, 'a flagged picture');
    const original = await outcomeOf(handle);
    assert.equal(original.content, '🚫 This picture was not posted.');
    assert.equal(original.components.length, 0, 'no buttons on a withheld result');
    const notice = await privateFollowUp(handle);
    assert.match(notice.content, /^🔞 The safety checker flagged your picture as possibly not safe for work, so it was not posted/);
    assert.match(notice.content, /only in age-restricted channels/);
    assert.deepEqual(everyAttachment(handle), [], 'nothing was uploaded');
    await world.bot.waitForLog((l) => l.msg === 'the safety checker flagged pictures' && l['blocked'] === 1, 10_000);
  });

  it('a request by mention: the status reply says it was not posted, and the requester is told in a direct message', async () => {
    const { discord, alice, channel } = world;
    const mention = discord.postMessage({ user: alice, channelId: channel.id, content: 'imagine a flagged mention', mentionsBot: true });
    const fromBot = (m: ApiMessage) => m.author.id === discord.botUser.id;
    const status = await discord.waitForMessage(
      channel,
      (m) => fromBot(m) && m.message_reference?.message_id === mention.id && (m.content.startsWith('🚫') || m.attachments.length > 0),
      { timeoutMs: 60_000 },
    );
    assert.equal(status.content, '🚫 This picture was not posted.');
    assert.deepEqual(status.attachments, []);
    const notice = await discord.waitForMessage(discord.openDm(alice), (m) => fromBot(m) && m.content.startsWith('🔞'), {
      timeoutMs: 30_000,
    });
    assert.match(notice.content, /flagged your picture/);
    assert.deepEqual(notice.attachments, []);
  });

  it('two flagged pictures of one request: neither is uploaded', async () => {
    const handle = imagine(world.alice, world.channel.id, 'two flagged pictures', { count: 2 });
    assert.equal((await outcomeOf(handle)).content, '🚫 These pictures were not posted.');
    assert.match((await privateFollowUp(handle)).content, /flagged your 2 pictures .* so they were not posted/);
    assert.deepEqual(everyAttachment(handle), []);
  });

  it('in an age-restricted channel a flagged picture is posted as a spoiler (SPOILER_ file name) by default', async () => {
    const result = await resultOf(imagine(world.alice, adults.id, 'in the adults channel'));
    assert.equal(result.attachments.length, 1, result.content);
    assert.ok(isSpoiler(result), result.attachments[0]!.filename);
    assert.match(result.attachments[0]!.filename, /^SPOILER_latentcord-\d+\.png$/);
  });

  it('nsfw spoiler posts flagged pictures as spoilers outside age-restricted channels too', async () => {
    await setting('set', { key: 'nsfw', value: 'spoiler' });
    try {
      const result = await resultOf(imagine(world.alice, world.channel.id, 'spoilered here'));
      assert.ok(isSpoiler(result));
    } finally {
      await setting('reset', { key: 'nsfw' });
    }
  });

  it('nsfwAgeRestricted show posts them plainly in age-restricted channels; block keeps them out there too', async () => {
    await setting('set', { key: 'nsfwAgeRestricted', value: 'show' });
    const shown = await resultOf(imagine(world.alice, adults.id, 'shown plainly'));
    assert.equal(isSpoiler(shown), false);
    await setting('set', { key: 'nsfwAgeRestricted', value: 'block' });
    try {
      const handle = imagine(world.alice, adults.id, 'blocked everywhere');
      assert.equal((await outcomeOf(handle)).content, '🚫 This picture was not posted.');
      assert.match((await privateFollowUp(handle)).content, /not even in age-restricted channels/);
      assert.deepEqual(everyAttachment(handle), []);
    } finally {
      await setting('reset', { key: 'nsfwAgeRestricted' });
    }
  });

  it('requireAgeRestrictedChannel refuses requests elsewhere, privately, before anything runs', async () => {
    await setting('set', { key: 'requireAgeRestrictedChannel', value: 'true' });
    try {
      const refused = imagine(world.alice, world.channel.id, 'not here');
      assert.equal(await privateAnswerOf(refused), '❌ This server allows image generation only in age-restricted channels.');
      const allowed = await resultOf(imagine(world.alice, adults.id, 'here it is fine'));
      assert.equal(allowed.attachments.length, 1, allowed.content);
    } finally {
      await setting('reset', { key: 'requireAgeRestrictedChannel' });
    }
  });

  it('direct messages follow the defaults: a flagged picture is not sent', async () => {
    const dm = world.discord.openDm(world.bob);
    const handle = imagine(world.bob, dm.id, 'a flagged picture in a DM');
    assert.equal((await outcomeOf(handle)).content, '🚫 This picture was not posted.');
    assert.match((await privateFollowUp(handle)).content, /flagged pictures are not sent in direct messages/);
    assert.deepEqual(everyAttachment(handle), []);
  });
});

describe('NSFW policy with a safety checker that flags nothing, and without a checker', () => {
  let checked: BotWorld;
  let unchecked: BotWorld;
  let modelDir: string;

  before(async () => {
    modelDir = modelWithChecker('none');
    checked = await startBotWorld({ env: { LATENTCORD_MODEL_DIR: modelDir } });
    unchecked = await startBotWorld();
  });
  after(async () => {
    await checked?.close();
    await unchecked?.close();
    rmSync(modelDir, { recursive: true, force: true });
  });

  it('a picture the checker does not flag is posted as it is, in any channel', async () => {
    const result = await resultOf(
      checked.discord.sendSlashCommand({
        user: checked.alice,
        channelId: checked.channel.id,
        name: 'imagine',
        options: { prompt: 'fine' },
      }),
    );
    assert.equal(result.attachments.length, 1, result.content);
    assert.equal(isSpoiler(result), false);
  });

  it('without a checker the start-up log and /settings show say that nothing is checked', async () => {
    const line = await unchecked.bot.waitForLog((l) => /^no safety checker in the model folder/.test(l.msg), 10_000);
    assert.equal(line.level, 40, 'a warning');
    const shown = await privateAnswerOf(
      unchecked.discord.sendSlashCommand({ user: unchecked.admin, channelId: unchecked.channel.id, name: 'settings', subcommand: 'show' }),
    );
    assert.ok(shown.startsWith(noSafetyCheckerNote), shown);
    const result = await resultOf(
      unchecked.discord.sendSlashCommand({
        user: unchecked.alice,
        channelId: unchecked.channel.id,
        name: 'imagine',
        options: { prompt: 'x' },
      }),
    );
    assert.equal(isSpoiler(result), false, 'nothing is checked, nothing is spoilered');
  });
});
