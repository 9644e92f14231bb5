import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { noSafetyCheckerNote } from '../../commands/settings.js';
import { readPngText } from '../../src/image/index.js';
import type { ApiMessage, ApiUser } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { attachmentsOf, buttonIds, startBotWorld, type BotWorld } from './bot-world.js';

/** Waits until the interaction's original message shows a finished result (attachments) or a failure. */
function resultOf(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: 60_000 });
}

/** The bot's immediate private answer (callback type 4, ephemeral): its text. */
async function ephemeralReply(handle: InteractionHandle): Promise<string> {
  const response = await handle.waitForResponse();
  const data = response.data as { content?: string; flags?: number };
  assert.equal(response.type, 4, `an immediate reply, got callback type ${response.type}`);
  assert.equal((data.flags ?? 0) & 64, 64, `ephemeral: ${data.content}`);
  return data.content ?? '';
}

/**
 * How many jobs the bot has stored (read from its SQLite file). Only a new request moves it (a job is stored
 * as its request is taken), and every request here is answered before the next is sent.
 */
function storedJobCount(world: BotWorld): number {
  return Object.values(world.jobCounts()).reduce((a, b) => a + b, 0);
}

describe('/settings end to end (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;

  /** `/settings <sub> …` as the admin; resolves with the private answer. */
  const settings = (
    subcommand: 'show' | 'set' | 'reset',
    options: Record<string, string> = {},
    user: ApiUser = world.admin,
    override = false,
  ) =>
    ephemeralReply(
      world.discord.sendSlashCommand({
        user,
        channelId: world.channel.id,
        name: 'settings',
        subcommand,
        options,
        commandPermissionOverride: override,
      }),
    );

  /** Sends a request that must be refused before anything is queued; returns the refusal. */
  async function refused(args: Parameters<BotWorld['discord']['sendSlashCommand']>[0]): Promise<string> {
    const jobsBefore = storedJobCount(world);
    const messagesBefore = world.discord.messages(args.channelId!).length;
    const text = await ephemeralReply(world.discord.sendSlashCommand(args));
    assert.equal(storedJobCount(world), jobsBefore, 'nothing was queued');
    assert.equal(world.discord.messages(args.channelId!).length, messagesBefore, 'nothing public was posted');
    return text;
  }

  before(async () => {
    world = await startBotWorld();
  });
  after(async () => {
    await world?.close();
  });

  it('show lists the defaults and limits in force, privately', async () => {
    const text = await settings('show');
    // The tiny test model has no safety checker: that comes first.
    assert.ok(text.startsWith(`${noSafetyCheckerNote}\n\n**Defaults**\n`), text);
    assert.match(text, /^`steps` 4 — /m);
    assert.match(text, /^`scheduler` euler — /m);
    assert.match(text, /\*\*Limits\*\*/);
    assert.match(text, /^`maxSteps` 50 — /m);
    assert.match(text, /^`allowedChannels` all — /m);
    assert.doesNotMatch(text, /set here/, 'nothing overridden yet');
  });

  it('is hidden from members without Manage Server, and refused at run time when shown to them anyway', async () => {
    const { discord, alice, channel } = world;
    assert.throws(
      () => discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'settings', subcommand: 'show' }),
      /default_member_permissions/,
    );
    const refusal = /^❌ Only members with the Manage Server permission can change these settings\.$/;
    assert.match(await settings('show', {}, alice, true), refusal);
    assert.match(await settings('set', { key: 'steps', value: '9' }, alice, true), refusal);
    assert.match(await settings('reset', {}, alice, true), refusal);
    assert.doesNotMatch(await settings('show'), /set here/, 'nothing changed');
  });

  it('refuses invalid values and cross-field conflicts with clear messages, storing nothing', async () => {
    assert.match(await settings('set', { key: 'steps', value: 'lots' }), /^❌ Expected `steps` to be .*got `lots`/);
    assert.match(await settings('set', { key: 'guidance', value: '31' }), /^❌ Expected `guidance` to be .*got `31`/);
    assert.match(await settings('set', { key: 'width', value: '100' }), /^❌ Expected `width` to be .*multiple of 8/);
    assert.match(await settings('set', { key: 'scheduler', value: 'eulr' }), /^❌ Expected `scheduler` to be .*did you mean `euler`\?/);
    assert.match(
      await settings('set', { key: 'allowedChannels', value: '#general' }),
      /^❌ Expected `allowedChannels` to be channel mentions or ids/,
    );
    assert.match(await settings('set', { key: 'steps', value: '60' }), /^❌ .*`maxSteps`.* Lower `steps` first or raise `maxSteps`\./);
    assert.match(await settings('set', { key: 'maxSteps', value: '3' }), /^❌ .*Lower `steps` first or raise `maxSteps`\./);
    assert.match(await settings('set', { key: 'width', value: '2048' }), /^❌ .*`maxPixels`/);
    assert.doesNotMatch(await settings('show'), /set here/, 'nothing was stored');
  });

  it('set changes the defaults of the next /imagine; reset goes back', async () => {
    const { discord, channel, alice } = world;
    assert.equal(await settings('set', { key: 'steps', value: '6' }), '✅ `steps` is now 6.');
    assert.equal(await settings('set', { key: 'scheduler', value: 'DDIM' }), '✅ `scheduler` is now ddim.');
    assert.equal(await settings('set', { key: 'width', value: '96' }), '✅ `width` is now 96.');
    assert.equal(await settings('set', { key: 'negativePrefix', value: 'blurry' }), '✅ `negativePrefix` is now blurry.');
    const shown = await settings('show');
    assert.match(shown, /^`steps` 6 \*\(set here\)\* — /m);
    assert.match(shown, /^`scheduler` ddim \*\(set here\)\* — /m);

    const result = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a garden', seed: '12', negative: 'fog' },
      }),
    );
    assert.match(result.content, /seed `12` · 96×64 · 6 steps · DDIM · CFG 7\.5/);
    const [png] = attachmentsOf(discord, result);
    assert.equal(
      readPngText(png!)['parameters'],
      'a garden\nNegative prompt: blurry, fog\nSteps: 6, Sampler: DDIM, CFG scale: 7.5, Seed: 12, Size: 96x64, Model: tiny-sd, RNG: CPU',
    );

    assert.equal(await settings('reset', { key: 'steps' }), '✅ `steps` is back to its default (4).');
    const after = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a garden', seed: '12' } }),
    );
    assert.match(after.content, /96×64 · 4 steps · DDIM/);
    assert.equal(await settings('reset'), '✅ All 3 server settings reset to the defaults.');
    assert.doesNotMatch(await settings('show'), /set here/);
  });

  it('settings survive a restart of the bot', async () => {
    const { discord, channel, alice } = world;
    await settings('set', { key: 'steps', value: '5' });
    await settings('set', { key: 'bannedWords', value: 'dragon, sea serpent' });
    const { code } = await world.stopBot();
    assert.equal(code, 0, 'a clean stop');
    await world.restartBot();
    const shown = await settings('show');
    assert.match(shown, /^`steps` 5 \*\(set here\)\* — /m);
    assert.match(shown, /^`bannedWords` dragon, sea serpent \*\(set here\)\* — /m);
    const result = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a quiet lake', seed: '2' } }),
    );
    assert.match(result.content, /64×64 · 5 steps · Euler/);
    assert.match(
      await refused({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a Sea  Serpent at dusk' } }),
      /^❌ Your `prompt` contains “sea serpent”, which this server does not allow\.$/,
    );
    assert.match(
      await refused({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a castle', negative: 'dragon' } }),
      /^❌ Your `negativePrompt` contains “dragon”/,
    );
    await settings('reset');
  });

  it('allowedChannels: commands elsewhere are refused privately; the allowed channel works', async () => {
    const { discord, guild, channel, alice } = world;
    const art = discord.createChannel(guild.id, { name: 'art' });
    assert.equal(await settings('set', { key: 'allowedChannels', value: `<#${art.id}>` }), `✅ \`allowedChannels\` is now <#${art.id}>.`);
    assert.equal(
      await refused({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a cat' } }),
      `❌ This server only allows image generation in <#${art.id}>.`,
    );
    const result = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: art.id, name: 'imagine', options: { prompt: 'a cat', seed: '1' } }),
    );
    assert.equal(result.attachments.length, 1);
    // Settings themselves are still reachable from any channel.
    assert.equal(await settings('reset', { key: 'allowedChannels' }), '✅ `allowedChannels` is back to its default (all).');
  });

  it('maxCount: more pictures than allowed are refused', async () => {
    const { channel, alice } = world;
    await settings('set', { key: 'maxCount', value: '2' });
    assert.match(
      await refused({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'cats', count: 3 } }),
      /^❌ Expected `count` to be an integer from 1 to 2 \(this server's limit\), got `3`\.$/,
    );
    await settings('reset', { key: 'maxCount' });
  });

  it('userQueueLimit: a second job while the first still runs is refused; the owner can cancel the first', async () => {
    const { discord, channel, bob } = world;
    await settings('set', { key: 'maxSteps', value: '150' });
    await settings('set', { key: 'userQueueLimit', value: '1' });
    const slow = discord.sendSlashCommand({
      user: bob,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a long job', width: 256, height: 256, steps: 150 },
    });
    await slow.waitForOriginal((m) => /step \d+\/150/.test(m.content), { timeoutMs: 30_000 });
    assert.equal(
      await refused({ user: bob, channelId: channel.id, name: 'imagine', options: { prompt: 'another' } }),
      '❌ You already have 1 job waiting or running; the limit here is 1. Please wait for one to finish.',
    );
    const progress = slow.original()!;
    const cancel = buttonIds(progress).find((id) => id.startsWith('lc:cancel:'))!;
    discord.clickButton({ user: bob, message: progress, customId: cancel });
    const cancelled = await resultOf(slow);
    assert.match(cancelled.content, /^❌ \*\*a long job\*\* — The generation was cancelled\./);
    await settings('reset', { key: 'userQueueLimit' });
    await settings('reset', { key: 'maxSteps' });
  });

  it('cooldownSeconds: a second request within the cooldown is refused', async () => {
    const { discord, guild, channel } = world;
    const carol = discord.createUser({ username: 'carol' });
    discord.addMember(guild.id, carol.id);
    await settings('set', { key: 'cooldownSeconds', value: '600' });
    const first = await resultOf(
      discord.sendSlashCommand({ user: carol, channelId: channel.id, name: 'imagine', options: { prompt: 'first', seed: '1' } }),
    );
    assert.equal(first.attachments.length, 1, 'the first request is served');
    // The cooldown runs from the first job's creation; on a busy machine its generation alone can take many
    // seconds, so the seconds left are checked against the clock around the refusal, not a fixed window.
    const createdAt = world.storedJob(buttonIds(first)[0]!.split(':')[2]!)?.createdAt;
    assert.ok(createdAt !== undefined, 'the first job is stored');
    const askedAt = Date.now();
    const refusal = await refused({ user: carol, channelId: channel.id, name: 'imagine', options: { prompt: 'second' } });
    const answeredAt = Date.now();
    const shown = /^❌ Please wait (\d+) more seconds \(the cooldown here is 600 s\)\.$/.exec(refusal);
    assert.ok(shown, refusal);
    const secondsLeft = (at: number) => Math.ceil((createdAt + 600_000 - at) / 1000);
    assert.ok(
      Number(shown[1]) >= secondsLeft(answeredAt) && Number(shown[1]) <= secondsLeft(askedAt),
      `${shown[1]} s left, between ${secondsLeft(answeredAt)} and ${secondsLeft(askedAt)}`,
    );
    await settings('reset', { key: 'cooldownSeconds' });
    const third = await resultOf(
      discord.sendSlashCommand({ user: carol, channelId: channel.id, name: 'imagine', options: { prompt: 'third', seed: '3' } }),
    );
    assert.equal(third.attachments.length, 1, 'served again once the cooldown is gone');
  });
});
