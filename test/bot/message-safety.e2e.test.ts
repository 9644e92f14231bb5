import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiChannel, ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle, InteractionStep } from '../fake-discord/index.js';
import { buttonIds, startBotWorld, type BotWorld } from './bot-world.js';

/**
 * What the bot posts when it echoes user text (prompts in progress, results, Info and /queue): within
 * Discord's 2,000 characters however long or markdown-heavy the prompts are, never a lone surrogate, never a
 * masked link or a bidi control of the user's, never a ping, and in direct messages never someone else's
 * prompt.
 */

/** Discord counts message length in code points (its API is Python 3). */
const codePoints = (text: string) => Array.from(text).length;

/** A UTF-16 surrogate without its partner: what cutting an emoji in half leaves. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const bidiControls = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** A masked link whose `[` is not escaped: Discord would render it as a link. */
const maskedLink = /(^|[^\\])\[Free Nitro\]\(/u;

/** Holds the pipeline long enough to queue others behind it; cancelled at the end of each test. */
const blockerOptions = { prompt: 'a long blocker', width: 256, height: 256, steps: 50, seed: '1' };

function running(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => /step [1-9]\d*\/\d+/.test(m.content), { timeoutMs: 60_000 });
}

function queued(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.content.includes('queued — position'), { timeoutMs: 20_000 });
}

function resultOf(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: 90_000 });
}

function contentOf(step: InteractionStep): string | undefined {
  if (step.kind === 'callback') return (step.data as { content?: string } | null)?.content;
  if (step.kind === 'originalEdited' || step.kind === 'followUp' || step.kind === 'followUpEdited') return step.message.content;
  return undefined;
}

/** The text the user saw in answer to a command that replies at once (an error reply included). */
async function answerOf(handle: InteractionHandle): Promise<string> {
  const step = await handle.waitForResponse({ timeoutMs: 20_000 });
  return contentOf(step) ?? '';
}

function assertFitsDiscord(content: string, what: string): void {
  assert.ok(codePoints(content) <= 2000, `${what}: ${codePoints(content)} code points`);
  assert.doesNotMatch(content, loneSurrogate, `${what}: no lone surrogates`);
}

describe('message safety end to end (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;
  let pingable: ApiChannel;
  let roleId: string;

  const imagine = (user: BotWorld['alice'], options: Record<string, string | number>, where: { channelId: string } | { dm: true }) =>
    world.discord.sendSlashCommand({ user, ...where, name: 'imagine', options: { prompt: 'x', ...options } });

  /** Cancels a waiting or running job through its own Cancel button, as its requester. */
  async function cancel(handle: InteractionHandle, user: BotWorld['alice']): Promise<void> {
    const message = handle.original();
    const id = message ? buttonIds(message).find((c) => c.startsWith('lc:cancel:')) : undefined;
    if (!message || !id) return;
    world.discord.clickButton({ user, message, customId: id });
    await resultOf(handle);
  }

  before(async () => {
    world = await startBotWorld({ config: { guildDefaults: { userQueueLimit: 25 } } });
    pingable = world.discord.createChannel(world.guild.id, {
      name: 'pingable',
      botPermissions: ['ViewChannel', 'SendMessages', 'AttachFiles', 'EmbedLinks', 'ReadMessageHistory', 'MentionEveryone'],
    });
    roleId = world.discord.createRole(world.guild.id, { name: 'moderators', mentionable: true }).id;
  });
  after(async () => {
    await world?.close();
  });

  it('/queue in a direct message shows only the asker’s own jobs there', async () => {
    const { alice, bob, admin, channel } = world;
    const blocker = imagine(admin, blockerOptions, { channelId: channel.id });
    await running(blocker);
    const aliceJob = imagine(alice, { prompt: 'alice private dm prompt' }, { dm: true });
    await queued(aliceJob);
    const bobJob = imagine(bob, { prompt: 'bob own dm prompt' }, { dm: true });
    await queued(bobJob);
    try {
      const answer = await answerOf(world.discord.sendSlashCommand({ user: bob, dm: true, name: 'queue' }));
      assert.match(answer, /bob own dm prompt/);
      assert.doesNotMatch(answer, /alice private dm prompt/, 'another user’s direct-message prompt stays private');
      assert.match(answer, /Waiting \(2\)/, 'the other job is still counted');
    } finally {
      await cancel(aliceJob, alice);
      await cancel(bobJob, bob);
      await cancel(blocker, admin);
    }
  });

  it('Info fits in 2,000 characters for the longest markdown- and emoji-heavy prompts', async () => {
    const { alice, channel, discord } = world;
    const prompt = '🎨*'.repeat(500);
    const negative = '_🌊'.repeat(500);
    const result = await resultOf(imagine(alice, { prompt, negative }, { channelId: channel.id }));
    assert.equal(result.attachments.length, 1, result.content);
    const info = buttonIds(result).find((id) => id.startsWith('lc:info:'))!;
    const answer = await answerOf(discord.clickButton({ user: alice, message: result, customId: info }));
    assert.match(answer, /^\*\*Prompt:\*\* 🎨\\\*🎨/, answer.slice(0, 200));
    assert.match(answer, /\*\*Negative prompt:\*\* \\_🌊/);
    assert.match(answer, /\*\*Job:\*\* `[0-9a-f-]{36}`/, 'the lines after the prompts are all there');
    assertFitsDiscord(answer, 'Info');
  });

  it('/queue fits in 2,000 characters with a busy queue of long prompts', async () => {
    const { alice, admin, channel, discord } = world;
    const blocker = imagine(admin, blockerOptions, { channelId: channel.id });
    await running(blocker);
    const waiting: InteractionHandle[] = [];
    try {
      for (let i = 0; i < 14; i++) {
        const handle = imagine(alice, { prompt: `${i} ${'**bold** 🎉 '.repeat(40)}`, seed: String(i) }, { channelId: channel.id });
        waiting.push(handle);
        await queued(handle);
      }
      const answer = await answerOf(discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'queue' }));
      assert.match(answer, /^🎨 \*\*Drawing:\*\* /u, answer.slice(0, 200));
      assert.match(answer, /Waiting \(14\)/);
      assertFitsDiscord(answer, '/queue');
    } finally {
      for (const handle of waiting.reverse()) await cancel(handle, alice);
      await cancel(blocker, admin);
    }
  });

  it('echoed prompts carry no masked link, no bidi control and ping nobody, in every message of the job', async () => {
    const { alice, discord } = world;
    const prompt = `@everyone [Free Nitro](https://discord.gift.example/claim) \u202Egnp.exe and <@&${roleId}>`;
    const handle = imagine(alice, { prompt }, { channelId: pingable.id });
    const result = await resultOf(handle);
    assert.equal(result.attachments.length, 1, result.content);
    const messages = handle.steps.flatMap((step) =>
      step.kind === 'originalEdited' || step.kind === 'followUp' || step.kind === 'followUpEdited' ? [step.message] : [],
    );
    assert.ok(messages.length >= 2, 'progress and result');
    for (const message of messages) {
      assert.doesNotMatch(message.content, maskedLink, message.content);
      assert.doesNotMatch(message.content, bidiControls, message.content);
      assert.equal(message.mention_everyone, false, `pinged everyone: ${message.content}`);
      assert.deepEqual(message.mention_roles, [], message.content);
    }
    const info = buttonIds(result).find((id) => id.startsWith('lc:info:'))!;
    const answer = await answerOf(discord.clickButton({ user: alice, message: result, customId: info }));
    assert.doesNotMatch(answer, maskedLink, answer);
    assert.doesNotMatch(answer, bidiControls, answer);
  });
});
