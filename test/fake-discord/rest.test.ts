import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AttachmentBuilder,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  HTTPError,
  RateLimitError,
  Routes,
  type Interaction,
  type Message,
  type TextChannel,
} from 'discord.js';
import sharp from 'sharp';
import { FakeDiscord } from './fake-discord.js';
import { deferred, startBotFixture } from './harness.js';

async function textChannel(client: Client, id: string): Promise<TextChannel> {
  const channel = await client.channels.fetch(id);
  assert.ok(channel?.isTextBased() && !channel.isDMBased());
  return channel as TextChannel;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('fake Discord REST with a real discord.js client', () => {
  it('channel messages: send with an attachment, fetch, reply, edit, typing, delete', async () => {
    const f = await startBotFixture({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    });
    try {
      const channel = await textChannel(f.client, f.channel.id);
      const png = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#00ff0080' } })
        .png()
        .toBuffer();
      const seenOwn = deferred<Message>();
      f.client.on(Events.MessageCreate, (m) => {
        if (m.author.id === f.client.user.id && m.attachments.size === 1) seenOwn.resolve(m);
      });
      const sent = await channel.send({
        content: 'here',
        files: [new AttachmentBuilder(png, { name: 'tile.png', description: 'a tile' })],
      });
      const attachment = sent.attachments.first();
      assert.equal(attachment?.name, 'tile.png');
      assert.equal(attachment?.description, 'a tile');
      assert.equal(attachment?.width, 8);
      assert.ok(Buffer.from(await (await fetch(attachment!.url)).arrayBuffer()).equals(png));
      assert.equal((await seenOwn.promise).id, sent.id, 'the bot receives MESSAGE_CREATE for its own message');
      const stored = f.discord.messages(f.channel);
      assert.deepEqual(
        stored.map((m) => [m.id, m.content, m.author.id]),
        [[sent.id, 'here', f.discord.applicationId]],
      );

      const userMessage = f.discord.postMessage({ user: f.user, channelId: f.channel, content: 'make it bigger' });
      const reply = await (await channel.messages.fetch(userMessage.id)).reply('on it');
      assert.equal(f.discord.message(reply.id)?.message_reference?.message_id, userMessage.id);
      assert.equal(f.discord.message(reply.id)?.type, 19);
      assert.deepEqual(
        f.discord.message(reply.id)?.mentions.map((u) => u.id),
        [f.user.id],
        'a reply pings its author by default',
      );

      const fetched = await channel.messages.fetch({ limit: 2 });
      assert.deepEqual([...fetched.keys()], [reply.id, userMessage.id], 'newest first, limited');
      const older = await channel.messages.fetch({ before: userMessage.id });
      assert.deepEqual([...older.keys()], [sent.id]);

      const edited = await sent.edit({ content: 'here (edited)', attachments: [] });
      assert.equal(edited.content, 'here (edited)');
      assert.equal(f.discord.message(sent.id)?.attachments.length, 0);
      const foreign = await channel.messages.fetch(userMessage.id);
      const editError = await rejection(
        f.client.rest.patch(Routes.channelMessage(f.channel.id, foreign.id), { body: { content: 'hijack' } }),
      );
      assert.ok(editError instanceof DiscordAPIError && editError.code === 50005, String(editError));

      await reply.react('⏳');
      assert.deepEqual(
        (f.discord.message(reply.id)?.reactions as Array<{ emoji: { name: string }; me: boolean }>).map((r) => [r.emoji.name, r.me]),
        [['⏳', true]],
      );
      await reply.reactions.cache.get('⏳')?.users.remove(f.client.user.id);
      assert.deepEqual(f.discord.message(reply.id)?.reactions, []);

      await channel.sendTyping();
      assert.equal(f.discord.typingIn(f.channel).length, 1);
      await sent.delete();
      assert.equal(f.discord.message(sent.id), undefined);
      assert.deepEqual(f.discord.unexpectedRequests(), []);
    } finally {
      await f.close();
    }
  });

  it('429 from an unannounced bucket: discord.js waits retry_after, retries, and every message arrives in order', async () => {
    const f = await startBotFixture();
    try {
      // A window long enough that the third message arrives within it however busy the machine (the client
      // waits a whole second anyway: Retry-After is in whole seconds).
      f.discord.setRateLimits([{ route: 'POST /channels/:channelId/messages', limit: 2, windowMs: 1000, announce: false }]);
      const channel = await textChannel(f.client, f.channel.id);
      const sent = await Promise.all(['m1', 'm2', 'm3', 'm4', 'm5'].map((content) => channel.send(content)));
      assert.deepEqual(
        sent.map((m) => m.content),
        ['m1', 'm2', 'm3', 'm4', 'm5'],
      );
      assert.deepEqual(
        f.discord.messages(f.channel).map((m) => m.content),
        ['m1', 'm2', 'm3', 'm4', 'm5'],
      );
      const log = f.discord.requests.filter((r) => r.route === 'POST /channels/:channelId/messages');
      const statuses = log.map((r) => r.status);
      assert.ok(statuses.includes(429), `a 429 happened: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 200).length, 5);
      assert.equal(statuses[statuses.length - 1], 200, 'the client retried after the 429');
      assert.equal(
        f.discord.invalidRequests().length,
        statuses.filter((s) => s === 429).length,
        '429s count towards the invalid-request limit',
      );

      // What discord.js read: Discord's 429 headers and JSON body.
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${f.discord.apiUrl}/v10/channels/${f.channel.id}/messages`, {
          method: 'POST',
          headers: { Authorization: `Bot ${f.discord.botToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ content: `raw ${i}` }),
        });
        const body = (await res.json()) as { retry_after?: number; global?: boolean; message?: string };
        if (res.status !== 429) continue;
        assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/, 'whole seconds');
        assert.equal(res.headers.get('x-ratelimit-scope'), 'user');
        assert.equal(body.global, false);
        assert.ok((body.retry_after ?? 0) > 0);
        assert.equal(body.message, 'You are being rate limited.');
        return;
      }
      assert.fail('the raw requests were not rate limited');
    } finally {
      await f.close();
    }
  });

  it('announced bucket: discord.js reads X-RateLimit-* and queues before Discord has to answer 429', async () => {
    const f = await startBotFixture();
    try {
      // Long enough that the client still has to wait when it sends the third, however busy the machine.
      f.discord.setRateLimits([{ route: 'POST /channels/:channelId/messages', limit: 2, windowMs: 1000 }]);
      const limited: string[] = [];
      f.client.rest.on('rateLimited', (info) => limited.push(info.route));
      const channel = await textChannel(f.client, f.channel.id);
      await Promise.all(['a', 'b', 'c', 'd'].map((content) => channel.send(content)));
      const statuses = f.discord.requests.filter((r) => r.route === 'POST /channels/:channelId/messages').map((r) => r.status);
      assert.deepEqual(statuses, [200, 200, 200, 200]);
      assert.ok(limited.includes('/channels/:id/messages'), `discord.js reported its wait: ${limited.join(',')}`);
    } finally {
      await f.close();
    }
  });

  it('injected faults: a global 429 and a 500 are retried; persistent 503 surfaces as HTTPError', async () => {
    const f = await startBotFixture({ fake: { retryAfterPrecision: 'milliseconds' } });
    try {
      f.discord.injectFault({ route: 'GET /channels/:channelId', status: 429, retryAfterMs: 50, global: true });
      f.discord.injectFault({ route: 'GET /channels/:channelId', status: 500 });
      const channel = (await f.client.rest.get(Routes.channel(f.channel.id))) as { id: string };
      assert.equal(channel.id, f.channel.id);
      assert.deepEqual(
        f.discord.requests.filter((r) => r.route === 'GET /channels/:channelId').map((r) => r.status),
        [429, 500, 200],
      );
      f.discord.injectFault({ route: 'GET /channels/:channelId', status: 503, times: 10 });
      const error = await rejection(f.client.rest.get(Routes.channel(f.channel.id)));
      assert.ok(error instanceof HTTPError, String(error));
      assert.equal(error.status, 503);
      f.discord.clearFaults();

      f.discord.injectDelay({ route: 'GET /channels/:channelId', delayMs: 300 });
      const started = performance.now();
      const slow = (await f.client.rest.get(Routes.channel(f.channel.id))) as { id: string };
      const slowMs = performance.now() - started;
      assert.equal(slow.id, f.channel.id, 'a delayed request is still answered normally');
      assert.ok(slowMs >= 290, `answered after ${slowMs} ms`);
      assert.equal(f.discord.requests.filter((r) => r.route === 'GET /channels/:channelId').at(-1)?.status, 200);
    } finally {
      await f.close();
    }
  });

  it('permissions: missing SendMessages / AttachFiles → 403/50013, no ViewChannel → 50001; app_permissions agree', async () => {
    const f = await startBotFixture({ commands: [{ name: 'ping', description: 'Ping' }] });
    try {
      const readOnly = f.discord.createChannel(f.guild.id, { name: 'read-only', botPermissions: ['ViewChannel', 'ReadMessageHistory'] });
      const noFiles = f.discord.createChannel(f.guild.id, { name: 'no-files', botPermissions: ['ViewChannel', 'SendMessages'] });
      const hidden = f.discord.createChannel(f.guild.id, { name: 'hidden', botPermissions: [] });
      const channelReady = deferred<void>();
      const waitFor = new Set([readOnly.id, noFiles.id, hidden.id]);
      const check = (): void => {
        if ([...waitFor].every((id) => f.client.channels.cache.has(id) || id === hidden.id)) channelReady.resolve();
      };
      f.client.on(Events.ChannelCreate, check);
      check();
      await channelReady.promise;

      const sendError = await rejection((await textChannel(f.client, readOnly.id)).send('hello'));
      assert.ok(sendError instanceof DiscordAPIError, String(sendError));
      assert.equal(sendError.code, 50013);
      assert.equal(sendError.status, 403);
      assert.equal(sendError.message, 'Missing Permissions');

      const noFilesChannel = await textChannel(f.client, noFiles.id);
      await noFilesChannel.send('text is fine');
      const fileError = await rejection(noFilesChannel.send({ files: [new AttachmentBuilder(Buffer.from('x'), { name: 'x.txt' })] }));
      assert.ok(fileError instanceof DiscordAPIError && fileError.code === 50013, String(fileError));

      const hiddenError = await rejection(f.client.rest.get(Routes.channel(hidden.id)));
      assert.ok(hiddenError instanceof DiscordAPIError && hiddenError.code === 50001, String(hiddenError));

      const seen = deferred<Interaction>();
      f.client.on(Events.InteractionCreate, (interaction) => seen.resolve(interaction));
      const handle = f.discord.sendSlashCommand({ user: f.user, channelId: readOnly.id, name: 'ping' });
      const interaction = await seen.promise;
      assert.equal(interaction.appPermissions.has('SendMessages'), false);
      assert.equal(interaction.appPermissions.has('ViewChannel'), true);
      assert.ok(interaction.isChatInputCommand());
      await interaction.reply('interaction responses need no SendMessages');
      assert.equal(handle.original()?.channel_id, readOnly.id);
    } finally {
      await f.close();
    }
  });

  it('unknown routes and wrong methods answer Discord 404/405 JSON and are recorded as unexpected', async () => {
    const f = await startBotFixture();
    try {
      const notFound = await rejection(f.client.rest.get('/definitely/not/a/route'));
      assert.ok(notFound instanceof DiscordAPIError, String(notFound));
      assert.equal(notFound.status, 404);
      assert.equal(notFound.code, 0);
      assert.equal(notFound.message, '404: Not Found');
      const wrongMethod = await rejection(f.client.rest.delete(Routes.gatewayBot()));
      assert.ok(wrongMethod instanceof DiscordAPIError && wrongMethod.status === 405, String(wrongMethod));
      assert.deepEqual(
        f.discord.unexpectedRequests().map((r) => `${r.method} ${r.path} ${r.status}`),
        ['GET /definitely/not/a/route 404', 'DELETE /gateway/bot 405'],
      );
    } finally {
      await f.close();
    }
  });

  it('a wrong token: REST answers 401 and discord.js login fails with TokenInvalid', async () => {
    const discord = await FakeDiscord.start();
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: discord.apiUrl } });
    try {
      const error = await rejection(client.login('not-the-token'));
      assert.equal((error as { code?: string }).code, 'TokenInvalid');
      assert.equal(discord.requests[0]?.status, 401);
      assert.equal(discord.requests[0]?.auth, 'invalid');
    } finally {
      await client.destroy();
      await discord.close();
    }
  });

  it('application commands: validation errors, guild scope, upsert, and the daily creation limit', async () => {
    const f = await startBotFixture({ fake: { dailyCommandCreateLimit: 3 }, client: { rest: { rejectOnRateLimit: () => true } } });
    try {
      const invalid = await rejection(f.client.application.commands.set([{ name: 'Bad Name', description: 'x' }]));
      assert.ok(invalid instanceof DiscordAPIError && invalid.code === 50035, String(invalid));
      assert.match(invalid.message, /0\.name\[APPLICATION_COMMAND_INVALID_NAME\]/);
      const requiredOrder = await rejection(
        f.client.application.commands.create({
          name: 'order',
          description: 'x',
          options: [
            { type: 3, name: 'a', description: 'a' },
            { type: 3, name: 'b', description: 'b', required: true },
          ],
        }),
      );
      assert.ok(requiredOrder instanceof DiscordAPIError && requiredOrder.code === 50035, String(requiredOrder));

      await f.client.application.commands.set([{ name: 'imagine', description: 'Draw' }], f.guild.id);
      assert.deepEqual(
        f.discord.commands(f.guild).map((c) => c.name),
        ['imagine'],
      );
      assert.deepEqual(f.discord.commands(), []);
      const first = await f.client.application.commands.create({ name: 'upscale', description: 'Bigger' });
      const again = await f.client.application.commands.create({ name: 'upscale', description: 'Even bigger' });
      assert.equal(again.id, first.id, 'POST with an existing name updates it');
      assert.equal(f.discord.commandCreations(), 1);
      await f.client.application.commands.set([{ name: 'upscale', description: 'Even bigger' }]);
      assert.equal(f.discord.commandCreations(), 1, 'an unchanged bulk overwrite creates nothing');
      await f.client.application.commands.create({ name: 'c2', description: 'x' });
      await f.client.application.commands.create({ name: 'c3', description: 'x' });
      const limited = await rejection(f.client.application.commands.create({ name: 'c4', description: 'x' }));
      assert.ok(limited instanceof RateLimitError, String(limited));
      const answer = f.discord.requests[f.discord.requests.length - 1];
      assert.equal(answer?.status, 429);
      assert.equal(answer?.error?.code, 30034);
      await f.client.application.commands.delete(first.id);
      assert.deepEqual(
        f.discord.commands().map((c) => c.name),
        ['c2', 'c3'],
      );
    } finally {
      await f.close();
    }
  });

  it('message content rule: without the MessageContent intent the bot sees content only when mentioned', async () => {
    const f = await startBotFixture({ fake: { privilegedIntents: { messageContent: false } } });
    try {
      const contents: string[] = [];
      const two = deferred<void>();
      f.client.on(Events.MessageCreate, (m) => {
        contents.push(m.content);
        if (contents.length === 2) two.resolve();
      });
      const hiddenMessage = f.discord.postMessage({ user: f.user, channelId: f.channel, content: 'just chatting' });
      f.discord.postMessage({ user: f.user, channelId: f.channel, content: 'draw a fox', mentionsBot: true });
      await two.promise;
      assert.deepEqual(contents, ['', `<@${f.discord.applicationId}> draw a fox`]);
      const channel = await textChannel(f.client, f.channel.id);
      const viaRest = await channel.messages.fetch(hiddenMessage.id);
      assert.equal(viaRest.content, '', 'REST applies the rule too when the intent is not approved');
      const botMessage = await channel.send('which size?');
      const replySeen = deferred<string>();
      f.client.on(Events.MessageCreate, (m) => {
        if (m.reference?.messageId === botMessage.id) replySeen.resolve(m.content);
      });
      f.discord.postMessage({ user: f.user, channelId: f.channel, content: '512x512', replyTo: botMessage.id });
      assert.equal(await replySeen.promise, '512x512', 'a pinging reply to the bot counts as a mention');

      const greedy = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.MessageContent], rest: { api: f.discord.apiUrl } });
      const error = await rejection(greedy.login(f.discord.botToken));
      await greedy.destroy();
      assert.match(String(error), /disallowed intents/i);
      const closed = await f.discord.waitUntil(
        () => f.discord.gatewayConnections().find((c) => c.closeCode === 4014),
        ['gateway:close'],
        'the 4014 close',
      );
      assert.equal(closed.closedBy, 'server');
    } finally {
      await f.close();
    }
  });

  it('DMs: user.send opens the DM channel; a user who blocks DMs gives 50007', async () => {
    const f = await startBotFixture();
    try {
      const friendly = await f.client.users.fetch(f.user.id);
      const dm = await friendly.send('your picture is ready');
      const channel = f.discord.openDm(f.user);
      assert.equal(dm.channelId, channel.id);
      assert.deepEqual(
        f.discord.messages(channel).map((m) => m.content),
        ['your picture is ready'],
      );
      const shy = f.discord.createUser({ username: 'shy', acceptsDms: false });
      const error = await rejection((await f.client.users.fetch(shy.id)).send('hi'));
      assert.ok(error instanceof DiscordAPIError && error.code === 50007, String(error));
    } finally {
      await f.close();
    }
  });
});

describe('fake Discord CDN', () => {
  it('serves attachments and misbehaves on request', async () => {
    const discord = await FakeDiscord.start();
    try {
      const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
      const good = discord.uploadAttachment(bytes, 'ok.bin', 'application/octet-stream', { declaredSize: 123 });
      assert.equal(good.size, 123);
      const okRes = await fetch(good.url);
      assert.equal(okRes.status, 200);
      assert.ok(Buffer.from(await okRes.arrayBuffer()).equals(bytes));
      const proxied = await fetch(good.proxy_url);
      assert.ok(Buffer.from(await proxied.arrayBuffer()).equals(bytes));

      const wrongType = discord.uploadAttachment(bytes, 'a.png', 'image/png', { behavior: { contentType: 'text/html' } });
      const wrongRes = await fetch(wrongType.url);
      assert.equal(wrongRes.headers.get('content-type'), 'text/html');
      await wrongRes.arrayBuffer();

      const huge = discord.uploadAttachment(bytes, 'huge.bin', undefined, { behavior: { contentLength: 1_000_000_000 } });
      const hugeRes = await fetch(huge.url);
      assert.equal(hugeRes.headers.get('content-length'), '1000000000');
      await assert.rejects(hugeRes.arrayBuffer());

      const cut = discord.uploadAttachment(bytes, 'cut.bin', undefined, { behavior: { truncateAt: 100 } });
      await assert.rejects(async () => (await fetch(cut.url)).arrayBuffer());

      const failing = discord.uploadAttachment(bytes, 'gone.bin', undefined, { behavior: { status: 503 } });
      assert.equal((await fetch(failing.url)).status, 503);

      const slow = discord.uploadAttachment(bytes, 'slow.bin', undefined, { behavior: { bytesPerSecond: 3000 } });
      assert.ok(Buffer.from(await (await fetch(slow.url)).arrayBuffer()).equals(bytes));

      const hanging = discord.uploadAttachment(bytes, 'hang.bin', undefined, { behavior: { hang: true } });
      await assert.rejects(fetch(hanging.url, { signal: AbortSignal.timeout(200) }));

      discord.setAttachmentBehavior(good, { status: 404 });
      assert.equal((await fetch(good.url)).status, 404);
      assert.equal((await fetch(`${discord.cdnUrl}/attachments/1/2/missing.png`)).status, 404);

      const cdn = discord.requests.filter((r) => r.kind === 'cdn');
      assert.ok(cdn.length >= 9);
      assert.ok(cdn.every((r) => r.route === 'GET /attachments/:channelId/:attachmentId/:filename'));
    } finally {
      await discord.close();
    }
  });
});
