import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { readPngText } from '../../src/image/index.js';
import { openStore } from '../../src/store/index.js';
import { maxPromptLength } from '../../src/settings/index.js';
import type { ApiChannel, ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { attachmentsOf, buttonIds, startBotWorld, type BotWorld } from './bot-world.js';

const resultTimeoutMs = 60_000;

/** A PNG with a diagonal gradient (so remixes of it are not flat), of the given size. */
async function gradientPng(width: number, height: number): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = Math.round((255 * x) / width);
      rgb[i + 1] = Math.round((255 * y) / height);
      rgb[i + 2] = 128;
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Waits until the interaction's original message shows a finished result (attachments) or a failure. */
function resultOf(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: resultTimeoutMs });
}

/** Waits for the bot's reply to a message once it carries a result or a failure. */
function replyTo(world: BotWorld, channel: ApiChannel | string, message: ApiMessage): Promise<ApiMessage> {
  return world.discord.waitForMessage(
    channel,
    (m) =>
      m.author.id === world.discord.botUser.id &&
      m.message_reference?.message_id === message.id &&
      (m.attachments.length > 0 || m.content.startsWith('❌')),
    { timeoutMs: resultTimeoutMs },
  );
}

/** The job id a result's buttons carry (`lc:<action>:<jobId>`). */
function jobIdOf(message: ApiMessage): string {
  const id = buttonIds(message)[0];
  assert.ok(id, `the result has buttons: ${message.content}`);
  return id.split(':')[2]!;
}

/** The stored job record (read from the bot's SQLite file). */
function storedJob(world: BotWorld, jobId: string) {
  const store = openStore(join(world.dataDir, 'data'));
  try {
    const job = store.getJob(jobId);
    assert.ok(job, `job ${jobId} is stored`);
    return job;
  } finally {
    store.close();
  }
}

/** Size and A1111 parameters of a result's first PNG. */
async function firstPng(world: BotWorld, message: ApiMessage): Promise<{ width: number; height: number; parameters: string; raw: Buffer }> {
  const [png] = attachmentsOf(world.discord, message);
  assert.ok(png, 'the result has a PNG');
  const metadata = await sharp(png).metadata();
  assert.equal(metadata.format, 'png');
  return {
    width: metadata.width!,
    height: metadata.height!,
    parameters: readPngText(png)['parameters'] ?? '',
    raw: await sharp(png).raw().toBuffer(),
  };
}

/** The text of an interaction's private (ephemeral) answer: a direct reply, or a follow-up after a deferral. */
async function privateAnswer(handle: InteractionHandle): Promise<string> {
  const step = await handle.waitFor(
    (s) => (s.kind === 'callback' && s.type === 4) || (s.kind === 'followUp' && (s.message.flags & 64) === 64),
    { timeoutMs: 15_000 },
  );
  if (step.kind === 'callback') {
    const data = step.data as { content?: string; flags?: number };
    assert.equal((data.flags ?? 0) & 64, 64, `ephemeral: ${data.content}`);
    return data.content ?? '';
  }
  assert.ok(step.kind === 'followUp');
  return step.message.content;
}

/** A modal text field's value as the bot prefilled it. */
function modalField(handle: InteractionHandle, id: string): string | undefined {
  const rows = (handle.modal?.components ?? []) as { components?: { custom_id?: string; value?: string }[] }[];
  return rows.flatMap((row) => row.components ?? []).find((c) => c.custom_id === id)?.value;
}

describe('remixes end to end (real bot process, fake Discord, tiny model; no Message Content intent)', () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld();
  });
  after(async () => {
    await world?.close();
  });

  it('/remix image:… strength:0.7 keeps the source aspect and records the strength in the PNG', async () => {
    const { discord, channel, alice } = world;
    const source = await gradientPng(128, 64);
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'remix',
      options: {
        prompt: 'a watercolor landscape',
        image: { data: source, filename: 'wide.png', contentType: 'image/png' },
        strength: 0.7,
        seed: '11',
      },
    });
    const response = await handle.waitForResponse();
    assert.equal(response.type, 5, 'deferred');
    assert.ok(handle.steps[0]!.elapsedMs < 3000);
    const result = await resultOf(handle);
    assert.match(result.content, /\*\*a watercolor landscape\*\*/);
    assert.match(result.content, /seed `11` · 128×64 · 4 steps · Euler · CFG 7\.5 · strength 0\.7/);
    const png = await firstPng(world, result);
    assert.deepEqual([png.width, png.height], [128, 64], 'the source size (within the limits) is kept');
    assert.equal(
      png.parameters,
      'a watercolor landscape\nSteps: 4, Sampler: Euler, CFG scale: 7.5, Seed: 11, Size: 128x64, Model: tiny-sd, Denoising strength: 0.7, RNG: CPU',
    );
    const job = storedJob(world, jobIdOf(result));
    assert.equal(job.kind, 'remix');
    assert.equal(job.strength, 0.7);
    assert.equal(job.parentJobId, null, 'an uploaded picture has no parent job');
    assert.deepEqual(discord.unexpectedRequests(), []);
  });

  it('/remix scales a source larger than the server allows down to its limit, keeping the aspect', async () => {
    const { discord, channel, alice } = world;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'remix',
      options: {
        prompt: 'a tall tower',
        image: { data: await gradientPng(256, 512), filename: 'tall.png', contentType: 'image/png' },
        seed: '3',
      },
    });
    const png = await firstPng(world, await resultOf(handle));
    // maxPixels is 65,536 in the test config; the tiny model needs multiples of 16.
    assert.ok(png.width * png.height <= 65_536, `${png.width}×${png.height} is within maxPixels`);
    assert.ok(png.width * png.height >= 0.9 * 65_536, `${png.width}×${png.height} uses most of the budget`);
    assert.equal(png.width % 16, 0);
    assert.equal(png.height % 16, 0);
    assert.ok(Math.abs(png.height / png.width - 2) < 0.1, `aspect ${png.width}×${png.height} stays 1:2`);
    assert.match(png.parameters, /Denoising strength: 0\.7/, 'the server default strength');
  });

  it('/remix without an image takes the most recent picture in the channel', async () => {
    const { discord, guild, alice, bob } = world;
    const room = discord.createChannel(guild.id, { name: 'remix-latest' });
    const older = discord.postMessage({
      user: bob,
      channelId: room.id,
      content: 'old one',
      attachments: [{ data: await gradientPng(64, 64), filename: 'old.png', contentType: 'image/png' }],
    });
    const newer = discord.postMessage({
      user: bob,
      channelId: room.id,
      content: 'new one',
      attachments: [{ data: await gradientPng(96, 64), filename: 'new.png', contentType: 'image/png' }],
    });
    discord.postMessage({ user: bob, channelId: room.id, content: 'just words' });
    const since = discord.requests.length;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: room.id,
      name: 'remix',
      options: { prompt: 'same but blue', seed: '4' },
    });
    assert.equal((await handle.waitForResponse()).type, 5, 'acknowledged before looking through the channel');
    const result = await resultOf(handle);
    const png = await firstPng(world, result);
    assert.deepEqual([png.width, png.height], [96, 64], 'the newest picture (96×64), not the older 64×64 one');
    const downloads = discord.requests
      .slice(since)
      .filter((r) => r.kind === 'cdn')
      .map((r) => r.path);
    assert.ok(
      downloads.some((path) => path.includes(newer.attachments[0]!.id)),
      'the newest picture was downloaded',
    );
    assert.ok(!downloads.some((path) => path.includes(older.attachments[0]!.id)), 'the older picture was not');
  });

  it('/remix without an image on one of our results records that job as its parent', async () => {
    const { discord, guild, alice, bob } = world;
    const room = discord.createChannel(guild.id, { name: 'remix-ours' });
    const source = await resultOf(
      discord.sendSlashCommand({ user: bob, channelId: room.id, name: 'imagine', options: { prompt: 'a boat', seed: '14', width: 80 } }),
    );
    const remix = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: room.id, name: 'remix', options: { prompt: 'a boat in a storm', seed: '15' } }),
    );
    const png = await firstPng(world, remix);
    assert.deepEqual([png.width, png.height], [80, 64]);
    const job = storedJob(world, jobIdOf(remix));
    assert.equal(job.parentJobId, jobIdOf(source));
    assert.equal(job.sourceImageUrl, source.attachments[0]!.url);
  });

  it('/remix without an image says so when the channel has no picture, or the bot cannot read its history', async () => {
    const { discord, guild, alice } = world;
    const empty = discord.createChannel(guild.id, { name: 'no-pictures' });
    discord.postMessage({ user: alice, channelId: empty.id, content: 'nothing to see' });
    const none = discord.sendSlashCommand({ user: alice, channelId: empty.id, name: 'remix', options: { prompt: 'x' } });
    assert.match(await privateAnswer(none), /found no picture in the last 50 messages/);
    await none.waitFor((step) => step.kind === 'originalDeleted');
    assert.equal(
      discord.messages(empty.id).filter((m) => m.author.id === discord.botUser.id).length,
      0,
      'the public "thinking…" placeholder is gone',
    );

    const blind = discord.createChannel(guild.id, {
      name: 'no-history',
      botPermissions: ['ViewChannel', 'SendMessages', 'AttachFiles', 'EmbedLinks', 'UseApplicationCommands'],
    });
    discord.postMessage({
      user: alice,
      channelId: blind.id,
      content: 'a picture the bot may not read',
      attachments: [{ data: await gradientPng(64, 64), filename: 'p.png', contentType: 'image/png' }],
    });
    const refused = discord.sendSlashCommand({ user: alice, channelId: blind.id, name: 'remix', options: { prompt: 'x' } });
    assert.equal((await refused.waitForResponse()).type, 4, 'refused at once, without a public "thinking…" first');
    assert.match(await privateAnswer(refused), /can't read this channel's history.*attach the picture/);
    assert.equal(discord.messages(blind.id).filter((m) => m.author.id === discord.botUser.id).length, 0, 'nothing public was left behind');
    assert.equal(
      discord.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/channels/${blind.id}/messages`)),
      false,
      'the bot did not even try to read the history',
    );
  });

  it('Apps › Remix on one of our results prefills the modal from the source job, and the remix records its parent', async () => {
    const { discord, channel, alice, bob } = world;
    const first = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a red fox', seed: '21' } }),
    );
    const sourceJobId = jobIdOf(first);

    const menu = discord.sendMessageCommand({ user: bob, targetMessage: first, name: 'Remix' });
    const opened = await menu.waitForResponse();
    assert.equal(opened.type, 9, 'a modal');
    assert.equal(modalField(menu, 'prompt'), 'a red fox', 'prompt of the source job');
    assert.equal(modalField(menu, 'strength'), '0.7', 'server default strength (the source is not a remix)');

    const submitted = discord.submitModal({ from: menu, fields: { prompt: 'a red fox, oil painting', strength: '0.55' } });
    const remix = await resultOf(submitted);
    assert.match(remix.content, new RegExp(`^<@${bob.id}> \\*\\*a red fox, oil painting\\*\\*`));
    assert.match(remix.content, /64×64 · 4 steps · Euler · CFG 7\.5 · strength 0\.55/);
    const png = await firstPng(world, remix);
    assert.match(png.parameters, /Denoising strength: 0\.55/);
    const remixJob = storedJob(world, jobIdOf(remix));
    assert.equal(remixJob.kind, 'remix');
    assert.equal(remixJob.parentJobId, sourceJobId, 'the remix remembers the job it came from');
    assert.equal(remixJob.sourceImageUrl, first.attachments[0]!.url);

    // Apps › Remix on that remix: its own strength is prefilled.
    const again = discord.sendMessageCommand({ user: alice, targetMessage: remix, name: 'Remix' });
    await again.waitForResponse();
    assert.equal(modalField(again, 'prompt'), 'a red fox, oil painting');
    assert.equal(modalField(again, 'strength'), '0.55');
  });

  it("Apps › Remix on someone's picture opens an empty-prompt modal and remixes that picture", async () => {
    const { discord, channel, alice, bob } = world;
    const posted = discord.postMessage({
      user: bob,
      channelId: channel.id,
      content: 'my cat',
      attachments: [{ data: await gradientPng(112, 64), filename: 'cat.png', contentType: 'image/png' }],
    });
    const menu = discord.sendMessageCommand({ user: alice, targetMessage: posted, name: 'Remix' });
    assert.equal((await menu.waitForResponse()).type, 9);
    assert.equal(modalField(menu, 'prompt'), undefined, 'nothing to prefill from');
    assert.equal(modalField(menu, 'strength'), '0.7');
    const submitted = discord.submitModal({ from: menu, fields: { prompt: 'a cat in space' } });
    const result = await resultOf(submitted);
    const png = await firstPng(world, result);
    assert.deepEqual([png.width, png.height], [112, 64], "the picture's own size");
    assert.match(png.parameters, /^a cat in space\n/);
    assert.equal(storedJob(world, jobIdOf(result)).parentJobId, null);
  });

  it('Apps › Remix on a message without a picture is refused privately', async () => {
    const { discord, channel, alice, bob } = world;
    const words = discord.postMessage({ user: bob, channelId: channel.id, content: 'no picture here' });
    const menu = discord.sendMessageCommand({ user: alice, targetMessage: words, name: 'Remix' });
    const response = await menu.waitForResponse();
    assert.equal(response.type, 4);
    const data = response.data as { content?: string; flags?: number };
    assert.equal((data.flags ?? 0) & 64, 64);
    assert.match(data.content ?? '', /has no picture to remix/);
  });

  it('the Remix button opens a modal with the job’s prompt; Reroll of a remix keeps the source and strength', async () => {
    const { discord, channel, alice } = world;
    const source = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a blue house', seed: '8' } }),
    );
    const [, remixButton] = buttonIds(source);
    const click = discord.clickButton({ user: alice, message: source, customId: remixButton! });
    assert.equal((await click.waitForResponse()).type, 9);
    assert.equal(modalField(click, 'prompt'), 'a blue house');
    assert.equal(modalField(click, 'strength'), '0.7');
    const remix = await resultOf(discord.submitModal({ from: click, fields: { prompt: 'a blue house at night', strength: '0.6' } }));
    const remixJob = storedJob(world, jobIdOf(remix));
    assert.equal(remixJob.parentJobId, jobIdOf(source));
    const remixPng = await firstPng(world, remix);
    assert.match(remixPng.parameters, /Denoising strength: 0\.6/);

    const reroll = discord.clickButton({ user: alice, message: remix, customId: buttonIds(remix)[0]! });
    const rerolled = await resultOf(reroll);
    assert.match(rerolled.content, /\*\*a blue house at night\*\*/);
    assert.match(rerolled.content, /strength 0\.6/);
    const rerollJob = storedJob(world, jobIdOf(rerolled));
    assert.equal(rerollJob.kind, 'remix');
    assert.equal(rerollJob.parentJobId, remixJob.id, 'a reroll points at what it rerolled');
    assert.equal(rerollJob.sourceImageUrl, remixJob.sourceImageUrl, 'the same source picture');
    assert.equal(rerollJob.strength, 0.6);
    assert.notEqual(rerollJob.seed, remixJob.seed, 'a new seed');
    const rerollPng = await firstPng(world, rerolled);
    assert.match(rerollPng.parameters, /Denoising strength: 0\.6/);
    assert.notDeepEqual(rerollPng.raw, remixPng.raw);
  });

  it('the Remix form holds a long prompt with emoji whole (no half emoji), and sends it back unchanged', async () => {
    const { discord, channel, alice } = world;
    // As many characters as the prompt limit, 9 UTF-16 units more: cutting at the limit in units split the fifth wave.
    const prompt = `${'x'.repeat(maxPromptLength - 9)}${'🌊'.repeat(9)}`;
    const source = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt, seed: '12' } }),
    );
    assert.equal(source.attachments.length, 1, source.content);
    const click = discord.clickButton({ user: alice, message: source, customId: buttonIds(source)[1]! });
    assert.equal((await click.waitForResponse()).type, 9, 'the form opened');
    const field = modalField(click, 'prompt') ?? '';
    assert.doesNotMatch(field, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, 'no lone surrogate');
    assert.equal(field, prompt, 'the whole prompt is prefilled');
    const remix = await resultOf(discord.submitModal({ from: click, fields: { strength: '0.5' } }));
    assert.equal(remix.attachments.length, 1, remix.content);
    assert.equal(storedJob(world, jobIdOf(remix)).prompt, prompt, 'the remix runs with the prompt as it was');
  });

  it('@latentcord remix strength:0.7 … as a reply to one of our pictures remixes it (no intent needed)', async () => {
    const { discord, channel, alice } = world;
    const source = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a dog', seed: '30', width: 96, height: 64 },
      }),
    );
    const mention = discord.postMessage({
      user: alice,
      channelId: channel.id,
      content: 'remix strength:0.7 seed:5 a watercolor dog',
      mentionsBot: true,
      replyTo: source.id,
    });
    const reply = await replyTo(world, channel, mention);
    assert.match(reply.content, new RegExp(`^<@${alice.id}> \\*\\*a watercolor dog\\*\\*`));
    assert.match(reply.content, /seed `5` · 96×64 · 4 steps · Euler · CFG 7\.5 · strength 0\.7/);
    const png = await firstPng(world, reply);
    assert.equal(
      png.parameters,
      'a watercolor dog\nSteps: 4, Sampler: Euler, CFG scale: 7.5, Seed: 5, Size: 96x64, Model: tiny-sd, Denoising strength: 0.7, RNG: CPU',
    );
    const job = storedJob(world, jobIdOf(reply));
    assert.equal(job.sourceImageUrl, source.attachments[0]!.url);
    assert.equal(job.parentJobId, jobIdOf(source), 'the remix remembers the job it came from');
  });

  it('a mention with a picture attached remixes that picture; `imagine` makes a new one; no picture gets a clear reply', async () => {
    const { discord, channel, alice, bob } = world;
    const attached = discord.postMessage({
      user: bob,
      channelId: channel.id,
      content: 'make it snow',
      mentionsBot: true,
      attachments: [{ data: await gradientPng(80, 48), filename: 'street.png', contentType: 'image/png' }],
    });
    const remixed = await replyTo(world, channel, attached);
    const remixPng = await firstPng(world, remixed);
    assert.deepEqual([remixPng.width, remixPng.height], [80, 48]);
    assert.match(remixPng.parameters, /^make it snow\n.*Denoising strength: 0\.7/s);

    const imagine = discord.postMessage({ user: alice, channelId: channel.id, content: 'imagine a cat', mentionsBot: true });
    const drawn = await replyTo(world, channel, imagine);
    const drawnPng = await firstPng(world, drawn);
    assert.deepEqual([drawnPng.width, drawnPng.height], [64, 64]);
    assert.match(drawnPng.parameters, /^a cat\n/);
    assert.doesNotMatch(drawnPng.parameters, /Denoising strength/);

    const nothing = discord.postMessage({ user: alice, channelId: channel.id, content: 'a watercolor dog', mentionsBot: true });
    const answer = await replyTo(world, channel, nothing);
    assert.match(answer.content, /^❌ Reply to a message with a picture \(or attach one\)/);
    assert.match(answer.content, /write `imagine` first/);
  });

  it("without the Message Content intent a reply to someone else's picture says what to do", async () => {
    const { discord, channel, alice, bob } = world;
    const picture = discord.postMessage({
      user: bob,
      channelId: channel.id,
      content: 'look',
      attachments: [{ data: await gradientPng(64, 64), filename: 'look.png', contentType: 'image/png' }],
    });
    const mention = discord.postMessage({
      user: alice,
      channelId: channel.id,
      content: 'remix a watercolor dog',
      mentionsBot: true,
      replyTo: picture.id,
    });
    const answer = await replyTo(world, channel, mention);
    assert.match(answer.content, /^❌ The message you replied to has no picture I can see\./);
    assert.match(answer.content, /without the Message Content intent/);
    assert.match(answer.content, /attach the picture to your message, or use Apps › Remix/);
  });
});

describe('mention remixes with the Message Content intent', () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld({ config: { discord: { messageContentIntent: true } } });
  });
  after(async () => {
    await world?.close();
  });

  it("a reply to someone else's picture works", async () => {
    const { discord, channel, alice, bob } = world;
    const picture = discord.postMessage({
      user: bob,
      channelId: channel.id,
      content: 'look',
      attachments: [{ data: await gradientPng(96, 48), filename: 'look.png', contentType: 'image/png' }],
    });
    const mention = discord.postMessage({
      user: alice,
      channelId: channel.id,
      content: 'remix strength:0.7 a watercolor dog',
      mentionsBot: true,
      replyTo: picture.id,
    });
    const reply = await replyTo(world, channel, mention);
    const png = await firstPng(world, reply);
    assert.deepEqual([png.width, png.height], [96, 48]);
    assert.match(png.parameters, /^a watercolor dog\n.*Denoising strength: 0\.7/s);
    assert.equal(storedJob(world, jobIdOf(reply)).sourceImageUrl, picture.attachments[0]!.url);
  });

  it('with the intent, a message that does not mention the bot is still not a request', async () => {
    const { discord, channel, alice } = world;
    const before = discord.messages(channel.id).length;
    const plain = discord.postMessage({ user: alice, channelId: channel.id, content: 'imagine a cat' });
    // A mention afterwards is answered; had the plain message been taken as a request it would be answered first.
    const mention = discord.postMessage({ user: alice, channelId: channel.id, content: 'hello', mentionsBot: true });
    await replyTo(world, channel, mention);
    const answered = discord
      .messages(channel.id)
      .slice(before)
      .filter((m) => m.message_reference?.message_id === plain.id);
    assert.deepEqual(answered, []);
  });
});
