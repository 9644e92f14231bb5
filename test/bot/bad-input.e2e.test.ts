import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { maxPromptLength } from '../../src/settings/index.js';
import type { ApiAttachment, ApiChannel, ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle, InteractionStep } from '../fake-discord/index.js';
import { startBotWorld, type BotWorld } from './bot-world.js';

/** Limits of this file's world: small enough that a test picture can exceed them. */
const maxAttachmentBytes = 100_000;
const downloadTimeoutMs = 1500;

const ephemeral = (flags: unknown) => ((typeof flags === 'number' ? flags : 0) & 64) === 64;

/** The text of a private (ephemeral) error: an ephemeral reply, an ephemeral follow-up, or an ephemeral original edited. */
function privateErrorText(step: InteractionStep): string | undefined {
  if (step.kind === 'callback' && step.type === 4) {
    const data = step.data as { flags?: number; content?: string };
    return ephemeral(data.flags) && data.content?.startsWith('❌') ? data.content : undefined;
  }
  if (step.kind === 'followUp' || step.kind === 'originalEdited') {
    return ephemeral(step.message.flags) && step.message.content.startsWith('❌') ? step.message.content : undefined;
  }
  return undefined;
}

/**
 * Waits for the private error an interaction got and checks how it was answered: acknowledged within
 * Discord's 3 seconds, the error only visible to the user (no public placeholder left behind).
 */
async function privateError(world: BotWorld, handle: InteractionHandle, timeoutMs = 15_000): Promise<string> {
  const ack = await handle.waitForResponse({ timeoutMs: 5000 });
  assert.ok(ack.elapsedMs < 3000, `acknowledged after ${ack.elapsedMs} ms`);
  const step = await handle.waitFor((s) => privateErrorText(s) !== undefined, { timeoutMs });
  const original = handle.original();
  assert.ok(original === null || ephemeral(original.flags), `no public message stays behind (original: ${original?.content})`);
  assert.equal(
    world.discord.messages(world.channel).filter((m) => (m.interaction_metadata as { id?: string } | undefined)?.id === handle.id).length,
    0,
    'nothing about the refusal in the channel',
  );
  return privateErrorText(step)!;
}

/** The identifier the bot logged for a refused interaction. */
async function refusalIdentifier(world: BotWorld, handle: InteractionHandle): Promise<string> {
  const line = await world.bot.waitForLog((l) => l.msg === 'request refused' && l['interaction'] === handle.id, 10_000);
  return String(line['identifier']);
}

/**
 * Jobs the bot stored so far (any status). A count over all jobs, but one only a new request moves (a job is
 * stored as its request is taken), and every request of this file is answered before the next is sent.
 */
function storedJobs(world: BotWorld): number {
  return Object.values(world.jobCounts()).reduce((sum, n) => sum + n, 0);
}

/** A finished result (attachments) or failure (❌) in the interaction's original message. */
function resultOf(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => (m.attachments ?? []).length > 0 || m.content.startsWith('❌'), { timeoutMs: 60_000 });
}

/** CDN requests for one attachment. */
function cdnRequestsFor(world: BotWorld, attachment: ApiAttachment): number {
  return world.discord.requests.filter((r) => r.kind === 'cdn' && r.path.includes(`/${attachment.id}/`)).length;
}

async function gradientPng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) raw.set([(x * 255) / width, (y * 255) / height, 128], (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Random pixels: they do not compress, so the file is about width × height × 3 bytes. */
function noise(width: number, height: number): Sharp {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } });
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A decompression bomb: a valid few-hundred-byte PNG whose header declares 60000 × 60000 grey pixels. */
function bombPng(): Buffer {
  const side = 60000;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, adaptive filtering, no interlace
  const rows = Buffer.alloc(4 * (side + 1)); // four rows of filter byte 0 + zeros
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A second local web server that must never be contacted: counts connections and would serve a valid picture. */
async function startForeignHost(picture: Buffer): Promise<{ server: Server; url: (name: string) => string; connections: () => number }> {
  let connections = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': String(picture.length) });
    res.end(picture);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: (name) => `http://127.0.0.1:${port}/attachments/1/2/${name}`, connections: () => connections };
}

describe('bad input and abuse (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;
  let foreign: Awaited<ReturnType<typeof startForeignHost>>;
  let good: Buffer;

  before(async () => {
    good = await gradientPng(64, 64);
    foreign = await startForeignHost(good);
    world = await startBotWorld({
      config: {
        limits: { maxAttachmentBytes, downloadTimeoutMs },
        guildDefaults: { maxCount: 2, bannedWords: ['forbidden', 'gore'], allowDMs: false },
      },
    });
  });
  after(async () => {
    await world?.close();
    await new Promise((resolve) => foreign?.server.close(resolve));
  });

  describe('attachments for /remix', () => {
    /** Runs /remix on an attachment and returns the private error and the identifier the bot logged. */
    async function remixRefused(
      image: ApiAttachment | { data: Uint8Array; filename: string; contentType?: string },
      options: Record<string, string | number> = {},
    ) {
      const jobsBefore = storedJobs(world);
      const handle = world.discord.sendSlashCommand({
        user: world.alice,
        channelId: world.channel.id,
        name: 'remix',
        options: { prompt: 'a watercolor dog', image, ...options },
      });
      const text = await privateError(world, handle);
      const identifier = await refusalIdentifier(world, handle);
      assert.equal(storedJobs(world), jobsBefore, 'nothing was queued');
      return { text, identifier, handle };
    }

    it('refuses a text file named .png (the bytes decide, not the name or content type)', async () => {
      const { text, identifier } = await remixRefused({
        data: Buffer.from('just some notes, not a picture\n'.repeat(20)),
        filename: 'notes.png',
        contentType: 'image/png',
      });
      assert.equal(identifier, 'image.notAnImage');
      assert.match(text, /not a picture|not an image/i);
    });

    it('refuses a PDF whether it says so (before downloading) or claims to be an image', async () => {
      const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
      const honest = world.discord.uploadAttachment(pdf, 'scan.pdf', 'application/pdf', { channelId: world.channel.id });
      const first = await remixRefused(honest);
      assert.equal(first.identifier, 'image.notAnImage');
      assert.match(first.text, /scan\.pdf.*not a picture/);
      assert.equal(cdnRequestsFor(world, honest), 0, 'refused from what Discord said, without downloading');

      const disguised = await remixRefused({ data: pdf, filename: 'scan.png', contentType: 'image/png' });
      assert.equal(disguised.identifier, 'image.unsupported');
      assert.match(disguised.text, /PDF/);
    });

    it('refuses a truncated PNG and a truncated JPEG', async () => {
      const png = await noise(128, 128).png().toBuffer();
      const jpeg = await noise(128, 128).jpeg({ quality: 90 }).toBuffer();
      const cutPng = await remixRefused({
        data: png.subarray(0, Math.floor(png.length / 2)),
        filename: 'cut.png',
        contentType: 'image/png',
      });
      assert.equal(cutPng.identifier, 'image.truncated');
      assert.match(cutPng.text, /PNG/);
      const cutJpeg = await remixRefused({
        data: jpeg.subarray(0, Math.floor(jpeg.length / 2)),
        filename: 'cut.jpg',
        contentType: 'image/jpeg',
      });
      assert.equal(cutJpeg.identifier, 'image.truncated');
      assert.match(cutJpeg.text, /JPEG/);
    });

    it('refuses a decompression bomb from its header, without decoding it', async () => {
      const bomb = bombPng();
      assert.ok(bomb.length < 1000, `the bomb is ${bomb.length} bytes`);
      const header = await sharp(bomb, { limitInputPixels: false }).metadata();
      assert.deepEqual([header.width, header.height], [60000, 60000], 'a well-formed header');
      const { text, identifier } = await remixRefused({ data: bomb, filename: 'bomb.png', contentType: 'image/png' });
      assert.equal(identifier, 'image.tooLarge');
      assert.match(text, /60000/);
      assert.equal(world.bot.process.exitCode, null, 'still running');
    });

    it('refuses a file Discord reports as over the size limit before downloading it', async () => {
      const big = await noise(200, 200).png().toBuffer();
      assert.ok(big.length > maxAttachmentBytes);
      const attachment = world.discord.uploadAttachment(big, 'big.png', 'image/png', { channelId: world.channel.id });
      const { text, identifier } = await remixRefused(attachment);
      assert.equal(identifier, 'attachment.tooLarge');
      assert.match(text, /limit|larger/);
      assert.equal(cdnRequestsFor(world, attachment), 0, 'never downloaded');
    });

    it('stops reading when the CDN sends more than Discord reported (no Content-Length)', async () => {
      const big = await noise(200, 200).png().toBuffer();
      const attachment = world.discord.uploadAttachment(big, 'sneaky.png', 'image/png', {
        channelId: world.channel.id,
        declaredSize: 2000,
        behavior: { omitContentLength: true },
      });
      assert.equal(attachment.size, 2000);
      const { text, identifier } = await remixRefused(attachment);
      assert.equal(identifier, 'attachment.tooLarge');
      assert.match(text, /larger than/);
      assert.equal(cdnRequestsFor(world, attachment), 1);
    });

    it('refuses a Content-Length over the limit, and a body longer than its Content-Length is not taken as more picture', async () => {
      const declaredHuge = world.discord.uploadAttachment(good, 'huge.png', 'image/png', {
        channelId: world.channel.id,
        behavior: { contentLength: 50_000_000 },
      });
      const huge = await remixRefused(declaredHuge);
      assert.equal(huge.identifier, 'attachment.tooLarge');

      const big = await noise(200, 200).png().toBuffer();
      const understated = world.discord.uploadAttachment(big, 'understated.png', 'image/png', {
        channelId: world.channel.id,
        declaredSize: 1000,
        behavior: { contentLength: 1000 },
      });
      const short = await remixRefused(understated);
      assert.equal(short.identifier, 'image.truncated', 'only the declared 1000 bytes are read: a cut PNG');
    });

    it('never connects to a host that is not on the attachment host list', async () => {
      const real = world.discord.uploadAttachment(good, 'cat.png', 'image/png', { channelId: world.channel.id });
      const elsewhere: ApiAttachment = { ...real, url: foreign.url('cat.png'), proxy_url: foreign.url('cat.png') };

      const viaOption = await remixRefused(elsewhere);
      assert.equal(viaOption.identifier, 'attachment.hostNotAllowed');
      assert.match(viaOption.text, /127\.0\.0\.1:\d+ is not one of them/);

      // A picture in an embed of another host, found as the channel's latest picture.
      world.discord.postMessage({
        user: world.bob,
        channelId: world.channel.id,
        content: 'look',
        embeds: [{ image: { url: foreign.url('embed.png') } }],
      });
      const latest = world.discord.sendSlashCommand({
        user: world.alice,
        channelId: world.channel.id,
        name: 'remix',
        options: { prompt: 'a dog' },
      });
      assert.match(
        await privateError(world, latest),
        /only download attachments from the hosts this bot allows.*127\.0\.0\.1:\d+ is not one of them/,
      );
      assert.equal(await refusalIdentifier(world, latest), 'attachment.hostNotAllowed');

      // Apps › Remix on a message whose attachment points elsewhere.
      const message = world.discord.postMessage({
        user: world.bob,
        channelId: world.channel.id,
        content: 'mine',
        attachments: [{ ...elsewhere, id: real.id }],
      });
      const menu = world.discord.sendMessageCommand({ user: world.alice, targetMessage: message, name: 'Remix' });
      await menu.waitForResponse();
      assert.ok(menu.modal, `the remix form opened (${menu.describeSteps()})`);
      const submitted = world.discord.submitModal({ from: menu, fields: { prompt: 'a dog', strength: '0.6' } });
      await privateError(world, submitted);
      assert.equal(await refusalIdentifier(world, submitted), 'attachment.hostNotAllowed');

      // A mention reply with such an attachment: the status reply says no.
      const mention = world.discord.postMessage({
        user: world.alice,
        channelId: world.channel.id,
        content: 'remix a dog',
        mentionsBot: true,
        attachments: [{ ...elsewhere, id: real.id }],
      });
      const status = await world.discord.waitForMessage(
        world.channel,
        (m) => m.message_reference?.message_id === mention.id && m.content.startsWith('❌'),
        { timeoutMs: 10_000 },
      );
      assert.match(status.content, /127\.0\.0\.1:\d+/);

      assert.equal(foreign.connections(), 0, 'the other host was never contacted');
    });

    it('gives up on a CDN that hangs, with a message about the time', async () => {
      const attachment = world.discord.uploadAttachment(good, 'slow.png', 'image/png', {
        channelId: world.channel.id,
        behavior: { hang: true },
      });
      const started = Date.now();
      const { text, identifier } = await remixRefused(attachment);
      assert.equal(identifier, 'attachment.timeout');
      assert.match(text, /1\.5 s|gave up/);
      assert.ok(Date.now() - started >= downloadTimeoutMs, 'waited for the download timeout');
    });

    it('explains a 404 from the CDN', async () => {
      const attachment = world.discord.uploadAttachment(good, 'gone.png', 'image/png', {
        channelId: world.channel.id,
        behavior: { status: 404 },
      });
      const { text, identifier } = await remixRefused(attachment);
      assert.equal(identifier, 'attachment.httpStatus');
      assert.match(text, /404/);
    });

    it('still remixes a good picture afterwards (slash command and Apps › Remix)', async () => {
      const handle = world.discord.sendSlashCommand({
        user: world.alice,
        channelId: world.channel.id,
        name: 'remix',
        options: { prompt: 'a watercolor dog', image: { data: good, filename: 'good.png', contentType: 'image/png' }, seed: '1' },
      });
      const message = await resultOf(handle);
      assert.equal(message.attachments.length, 1, message.content);
      assert.match(message.content, /strength 0\.7/);

      const posted = world.discord.postMessage({
        user: world.bob,
        channelId: world.channel.id,
        content: 'my drawing',
        attachments: [{ data: good, filename: 'drawing.png', contentType: 'image/png' }],
      });
      const menu = world.discord.sendMessageCommand({ user: world.alice, targetMessage: posted, name: 'Remix' });
      await menu.waitForResponse();
      assert.ok(menu.modal, `the remix form opened (${menu.describeSteps()})`);
      const viaMenu = await resultOf(world.discord.submitModal({ from: menu, fields: { prompt: 'a pencil sketch', strength: '0.5' } }));
      assert.equal(viaMenu.attachments.length, 1, viaMenu.content);
      assert.match(viaMenu.content, /strength 0\.5/);
    });
  });

  describe('options and places', () => {
    /** Runs /imagine and returns the private error and the logged identifier; checks that nothing was queued. */
    async function imagineRefused(options: Record<string, string | number>, place: { channelId?: string; dm?: true } = {}) {
      const jobsBefore = storedJobs(world);
      const handle = world.discord.sendSlashCommand({
        user: world.alice,
        ...(place.dm ? { dm: true } : { channelId: place.channelId ?? world.channel.id }),
        name: 'imagine',
        options: { prompt: 'a cat', ...options },
      });
      const text = await privateError(world, handle);
      const identifier = await refusalIdentifier(world, handle);
      assert.equal(storedJobs(world), jobsBefore, 'nothing was queued');
      return { text, identifier };
    }

    it('refuses seeds that are not integers from 0 to 2^64 − 1', async () => {
      const letters = await imagineRefused({ seed: 'abc' });
      assert.equal(letters.identifier, 'options.seed');
      assert.match(letters.text, /`seed`.*18446744073709551615.*`abc`/);
      const tooBig = await imagineRefused({ seed: '18446744073709551616' });
      assert.equal(tooBig.identifier, 'options.seed');
      assert.match(tooBig.text, /18446744073709551616/);
    });

    it("refuses a width that is not a multiple of the model's 16", async () => {
      const { text, identifier } = await imagineRefused({ width: 72 });
      assert.equal(identifier, 'options.width');
      assert.match(text, /multiple of 16.*72/);
    });

    it("refuses steps and count above the server's limits (within Discord's own)", async () => {
      const steps = await imagineRefused({ steps: 120 });
      assert.equal(steps.identifier, 'options.steps');
      assert.match(steps.text, /1 to 50.*120/);
      const count = await imagineRefused({ count: 3 });
      assert.equal(count.identifier, 'options.count');
      assert.match(count.text, /1 to 2.*3/);
    });

    it(`refuses a prompt of only spaces and one of more than ${maxPromptLength} characters`, async () => {
      const blank = await imagineRefused({ prompt: '      ' });
      assert.equal(blank.identifier, 'options.prompt');
      assert.match(blank.text, /got nothing/);
      const long = await imagineRefused({ prompt: 'a cat '.repeat(maxPromptLength / 5) });
      assert.equal(long.identifier, 'options.prompt');
      assert.match(long.text, new RegExp(`${maxPromptLength} characters`));

      // A mention has no Discord-side length limit at all.
      const mention = world.discord.postMessage({
        user: world.alice,
        channelId: world.channel.id,
        content: `imagine ${'tall tower '.repeat(maxPromptLength / 9)}`,
        mentionsBot: true,
      });
      const reply = await world.discord.waitForMessage(world.channel, (m) => m.message_reference?.message_id === mention.id, {
        timeoutMs: 10_000,
      });
      assert.match(reply.content, new RegExp(`^❌ .*${maxPromptLength} characters`));
    });

    it('refuses banned words in the prompt and in the negative prompt', async () => {
      const prompt = await imagineRefused({ prompt: 'a FORBIDDEN castle' });
      assert.equal(prompt.identifier, 'options.bannedWord');
      assert.match(prompt.text, /`prompt`.*forbidden/);
      const negative = await imagineRefused({ negative: 'blur, gore' });
      assert.equal(negative.identifier, 'options.bannedWord');
      assert.match(negative.text, /`negativePrompt`.*gore/);
    });

    it('refuses commands in a channel the server did not allow', async () => {
      const other = world.discord.createChannel(world.guild.id, { name: 'off-topic' });
      const set = world.discord.sendSlashCommand({
        user: world.admin,
        channelId: world.channel.id,
        name: 'settings',
        subcommand: 'set',
        options: { key: 'allowedChannels', value: `<#${world.channel.id}>` },
      });
      const setReply = await set.waitForResponse();
      assert.doesNotMatch(String((setReply.data as { content?: string }).content), /❌/);
      try {
        const { text, identifier } = await imagineRefused({}, { channelId: other.id });
        assert.equal(identifier, 'access.channel');
        assert.match(text, new RegExp(`<#${world.channel.id}>`));
      } finally {
        const reset = world.discord.sendSlashCommand({
          user: world.admin,
          channelId: world.channel.id,
          name: 'settings',
          subcommand: 'reset',
          options: { key: 'allowedChannels' },
        });
        await reset.waitForResponse();
      }
    });

    it('refuses direct messages when allowDMs is off', async () => {
      const { text, identifier } = await imagineRefused({}, { dm: true });
      assert.equal(identifier, 'access.dm');
      assert.match(text, /direct messages/);
    });

    it('refuses when the bot cannot send messages or attach files in the channel', async () => {
      const base = ['ViewChannel', 'ReadMessageHistory', 'EmbedLinks'] as const;
      const noSend: ApiChannel = world.discord.createChannel(world.guild.id, { name: 'no-send', botPermissions: [...base, 'AttachFiles'] });
      const noFiles: ApiChannel = world.discord.createChannel(world.guild.id, {
        name: 'no-files',
        botPermissions: [...base, 'SendMessages'],
      });
      const send = await imagineRefused({}, { channelId: noSend.id });
      assert.equal(send.identifier, 'access.botPermissions');
      // Discord voids Attach Files without Send Messages (implicit permissions), so both are named.
      assert.match(send.text, /Send Messages, Attach Files permissions/);
      const files = await imagineRefused({}, { channelId: noFiles.id });
      assert.equal(files.identifier, 'access.botPermissions');
      assert.match(files.text, /I need the Attach Files permission in this channel/);
    });

    it('still draws normally afterwards, and nothing crashed or was logged as a bug', async () => {
      const handle = world.discord.sendSlashCommand({
        user: world.alice,
        channelId: world.channel.id,
        name: 'imagine',
        options: { prompt: 'a calm lake', seed: '9', count: 2 },
      });
      const message = await resultOf(handle);
      assert.deepEqual(
        message.attachments.map((a) => a.filename),
        ['latentcord-9-1.png', 'latentcord-9-2.png'],
      );
      assert.equal(world.bot.process.exitCode, null);
      const bugs = world.bot.logs.filter((l) => l.level >= 50);
      assert.deepEqual(
        bugs.map((l) => l.msg),
        [],
        'every refusal was a user error',
      );
      assert.equal(
        world.bot.output.some((line) => line.includes(world.discord.botToken)),
        false,
        'the token is not in the logs',
      );
    });
  });
});
