import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Events, GatewayIntentBits, type Message } from 'discord.js';
import { FakeDiscord } from './fake-discord.js';
import { deferred, sleep, startBotFixture } from './harness.js';
import { scaled } from '../helpers/time-scale.js';
import { RawGatewayClient } from './raw-gateway-client.js';

const GUILDS = 1 << 0;
const GUILD_MESSAGES = 1 << 9;
const DIRECT_MESSAGES = 1 << 12;
const MESSAGE_CONTENT = 1 << 15;

/** Resolves with the first message the client sees whose content matches. */
function nextMessage(
  client: {
    on(e: typeof Events.MessageCreate, f: (m: Message) => void): unknown;
    off(e: typeof Events.MessageCreate, f: (m: Message) => void): unknown;
  },
  content: string,
): Promise<Message> {
  return new Promise((resolve) => {
    const listener = (message: Message): void => {
      if (message.content !== content) return;
      client.off(Events.MessageCreate, listener);
      resolve(message);
    };
    client.on(Events.MessageCreate, listener);
  });
}

describe('fake Discord gateway with a real discord.js client', () => {
  it('login: GET /gateway/bot, IDENTIFY, READY, GUILD_CREATE; guilds and channels cached; heartbeats carry the sequence', async () => {
    const f = await startBotFixture();
    try {
      assert.equal(f.client.user.id, f.discord.applicationId);
      assert.equal(f.client.application.id, f.discord.applicationId);
      const guild = f.client.guilds.cache.get(f.guild.id);
      assert.equal(guild?.name, 'Test Guild');
      assert.equal(guild?.available, true);
      assert.ok(f.client.channels.cache.has(f.channel.id));
      assert.equal(guild?.members.me?.id, f.discord.applicationId, 'GUILD_CREATE carries the bot member');

      assert.equal(f.discord.requests[0]?.route, 'GET /gateway/bot');
      assert.equal(f.discord.requests[0]?.auth, 'bot');
      const [session] = f.discord.gatewaySessions();
      assert.ok(session);
      assert.equal(session.intents, GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages);
      assert.deepEqual(session.shard, [0, 1]);
      const connection = session.connections[0]!;
      assert.equal(connection.path, '/gateway');
      assert.equal(connection.query.v, '10');
      assert.equal(connection.query.encoding, 'json');
      assert.equal(connection.compression, null, 'discord.js without zlib-sync asks for no compression');

      const beat = await f.discord.waitUntil(() => (connection.heartbeats >= 2 ? connection : undefined), ['gateway:op'], 'two heartbeats');
      assert.equal(beat.lastHeartbeatSeq, session.seq, 'the heartbeat carries the last sequence number received');

      const application = await f.client.application.fetch();
      assert.equal(application.name, f.discord.botUser.username);
      assert.equal(application.owner?.id !== undefined, true);
      const me = (await f.client.rest.get('/users/@me')) as { id: string; bot: boolean };
      assert.deepEqual([me.id, me.bot], [f.discord.applicationId, true]);

      const joined = deferred<string>();
      f.client.once(Events.GuildCreate, (g) => joined.resolve(g.id));
      const second = f.discord.createGuild({ name: 'Second' });
      assert.equal(await joined.promise, second.id);
      assert.deepEqual(f.discord.unexpectedRequests(), []);
    } finally {
      await f.close();
    }
  });

  it('resumes after the connection drops (abnormal close, 4000, 1001) and receives the events it missed', async () => {
    const f = await startBotFixture({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    });
    try {
      const [session] = f.discord.gatewaySessions();
      for (const mode of ['abnormal', 4000, 1001] as const) {
        const resumed = deferred<number>();
        f.client.once(Events.ShardResume, (_id, replayed) => resumed.resolve(replayed));
        const seqBefore = f.discord.gatewaySessions()[0]!.seq;
        assert.equal(f.discord.dropGatewayConnection(mode), 1);
        const missed = f.discord.postMessage({ user: f.user, channelId: f.channel, content: `while away (${mode})` });
        const received = nextMessage(f.client, missed.content);
        const connection = await f.discord.waitForResume();
        assert.equal(connection.path, '/gateway/resume', 'the client used resume_gateway_url');
        assert.equal(connection.sessionId, session?.sessionId);
        assert.equal(connection.resumedFromSeq, seqBefore);
        assert.equal(connection.replayed, 1);
        assert.equal((await received).id, missed.id);
        assert.ok((await resumed.promise) >= 1);
      }
      const [after] = f.discord.gatewaySessions();
      assert.equal(f.discord.gatewaySessions().length, 1, 'no new IDENTIFY');
      assert.equal(after?.resumes, 3);
      assert.deepEqual(
        after?.connections.map((c) => c.kind),
        ['identify', 'resume', 'resume', 'resume'],
      );
    } finally {
      await f.close();
    }
  });

  it('op 7 RECONNECT and resumable op 9 INVALID_SESSION make the client resume', async () => {
    const f = await startBotFixture();
    try {
      f.discord.requestReconnect();
      const viaReconnect = await f.discord.waitForResume();
      assert.equal(viaReconnect.path, '/gateway/resume');
      f.discord.invalidateSession(true);
      const viaInvalid = await f.discord.waitForResume();
      assert.equal(viaInvalid.id, viaReconnect.id, 'a resumable INVALID_SESSION is answered with RESUME on the same socket');
      assert.equal(f.discord.gatewaySessions().length, 1);
      assert.equal(f.discord.gatewaySessions()[0]?.resumes, 2);
    } finally {
      await f.close();
    }
  });

  it('non-resumable INVALID_SESSION makes the client IDENTIFY again', async () => {
    // discord.js keeps Discord's 5 s identify window by itself; to keep the test short both sides skip it here.
    const noThrottle = { ws: { buildIdentifyThrottler: () => ({ waitForIdentify: async () => undefined }) } };
    const f = await startBotFixture({ client: noThrottle, fake: { identifyIntervalMs: 0 } });
    try {
      // Destroying the client between IDENTIFY and READY trips a reconnect bug in @discordjs/ws, so wait for READY.
      const shardReady = deferred<void>();
      f.client.once(Events.ShardReady, () => shardReady.resolve());
      f.discord.invalidateSession(false);
      const session = await f.discord.waitForIdentify({ afterSessions: 1 });
      await shardReady.promise;
      const sessions = f.discord.gatewaySessions();
      assert.equal(sessions.length, 2);
      assert.equal(sessions[0]?.invalidated, true);
      assert.equal(session.sessionId, sessions[1]?.sessionId);
      assert.equal(sessions[1]?.connections[0]?.kind, 'identify');
    } finally {
      await f.close();
    }
  });

  it('client.destroy closes with 1000, which ends the session', async () => {
    const f = await startBotFixture();
    await f.client.destroy();
    try {
      const [session] = f.discord.gatewaySessions();
      await f.discord.waitUntil(
        () => (session && f.discord.gatewaySessions()[0]?.invalidated ? true : undefined),
        ['gateway:close'],
        'the session to end',
      );
      const connection = f.discord.gatewayConnections()[0];
      assert.equal(connection?.closeCode, 1000);
      assert.equal(connection?.closedBy, 'client');
    } finally {
      await f.discord.close();
    }
  });
});

describe('fake Discord gateway protocol (raw socket)', () => {
  it('HELLO, IDENTIFY → READY with unavailable guilds, then GUILD_CREATE; heartbeat → ack', async () => {
    const discord = await FakeDiscord.start({ heartbeatIntervalMs: 1000 });
    const client = await RawGatewayClient.connect(discord.gatewayUrl);
    try {
      const guild = discord.createGuild({ name: 'G' });
      const hello = await client.next();
      assert.deepEqual(hello, { op: 10, d: { heartbeat_interval: 1000 }, s: null, t: null });
      client.identify(discord.botToken, GUILDS);
      const ready = await client.next();
      assert.equal(ready.t, 'READY');
      assert.equal(ready.s, 1);
      assert.equal(ready.d.v, 10);
      assert.equal(ready.d.user.id, discord.applicationId);
      assert.deepEqual(ready.d.guilds, [{ id: guild.id, unavailable: true }]);
      assert.deepEqual(ready.d.application, { id: discord.applicationId, flags: ready.d.application.flags });
      assert.match(ready.d.session_id, /^[0-9a-f]{32}$/);
      assert.equal(ready.d.resume_gateway_url, discord.gatewayUrl + '/resume');
      const guildCreate = await client.next();
      assert.equal(guildCreate.t, 'GUILD_CREATE');
      assert.equal(guildCreate.s, 2);
      assert.equal(guildCreate.d.unavailable, false);
      assert.deepEqual(
        guildCreate.d.members.map((m: { user: { id: string } }) => m.user.id),
        [discord.applicationId],
        'without presences only the bot member',
      );
      client.send({ op: 1, d: 2 });
      assert.deepEqual(await client.next(), { op: 11, d: null, s: null, t: null });
    } finally {
      client.close(1000);
      await discord.close();
    }
  });

  it('refuses bad IDENTIFYs with the documented close codes', async () => {
    const discord = await FakeDiscord.start({ privilegedIntents: { messageContent: false } });
    try {
      const cases: Array<[string, (c: RawGatewayClient) => void, number, string?]> = [
        ['wrong token', (c) => c.identify('nope', GUILDS), 4004],
        ['undefined intent bit', (c) => c.identify(discord.botToken, 1 << 30), 4013],
        ['unapproved privileged intent', (c) => c.identify(discord.botToken, GUILDS | MESSAGE_CONTENT), 4014],
        ['op before IDENTIFY', (c) => c.send({ op: 3, d: {} }), 4003],
        ['unknown opcode', (c) => c.send({ op: 42, d: null }), 4001],
        ['invalid JSON', (c) => c.send('{nope'), 4002],
        ['bad shard', (c) => c.identify(discord.botToken, GUILDS, { shard: [2, 2] }), 4010],
        [
          'second IDENTIFY',
          (c) => {
            c.identify(discord.botToken, GUILDS);
            c.identify(discord.botToken, GUILDS);
          },
          4005,
        ],
        ['API version 6', () => undefined, 4012, 'v=6&encoding=json'],
      ];
      for (const [name, act, code, query] of cases) {
        const client = await RawGatewayClient.connect(discord.gatewayUrl, query);
        act(client);
        const closed = await client.closed;
        assert.equal(closed.code, code, name);
      }
    } finally {
      await discord.close();
    }
  });

  it('zlib-stream transport compression: every payload is binary and inflates with one shared context', async () => {
    const discord = await FakeDiscord.start({ heartbeatIntervalMs: 5000 });
    discord.createGuild({ name: 'G' });
    const client = await RawGatewayClient.connect(discord.gatewayUrl, 'v=10&encoding=json&compress=zlib-stream');
    try {
      assert.equal((await client.next()).op, 10);
      client.identify(discord.botToken, GUILDS);
      assert.equal((await client.next()).t, 'READY');
      assert.equal((await client.next()).t, 'GUILD_CREATE');
      client.send({ op: 1, d: 2 });
      assert.equal((await client.next()).op, 11);
      assert.ok(client.frameKinds.length >= 4 && client.frameKinds.every((k) => k === 'binary'));
      assert.equal(discord.gatewayConnections()[0]?.compression, 'zlib-stream');
    } finally {
      client.close(1000);
      await discord.close();
    }
  });

  it('IDENTIFY compress: true sends dispatches as zlib-compressed binary frames', async () => {
    const discord = await FakeDiscord.start({ payloadCompressionThreshold: 200 });
    discord.createGuild({ name: 'G' });
    const client = await RawGatewayClient.connect(discord.gatewayUrl);
    try {
      assert.equal((await client.next()).op, 10);
      client.identify(discord.botToken, GUILDS, { compress: true });
      assert.equal((await client.next()).t, 'READY');
      assert.equal((await client.next()).t, 'GUILD_CREATE');
      assert.deepEqual(client.frameKinds, ['text', 'binary', 'binary'], 'HELLO plain, big dispatches compressed');
    } finally {
      client.close(1000);
      await discord.close();
    }
  });

  it('RESUME replays what was missed in order, then RESUMED; a bad RESUME gets op 9 false', async () => {
    const discord = await FakeDiscord.start();
    const guild = discord.createGuild({ name: 'G' });
    const channel = discord.createChannel(guild.id, { name: 'c' });
    const user = discord.createUser({ username: 'u' });
    discord.addMember(guild.id, user);
    const first = await RawGatewayClient.connect(discord.gatewayUrl);
    await first.next();
    first.identify(discord.botToken, GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT);
    const ready = await first.next();
    const lastSeen = (await first.nextDispatch('GUILD_CREATE')).s;
    first.terminate();
    await first.closed;
    const a = discord.postMessage({ user, channelId: channel, content: 'a' });
    const b = discord.postMessage({ user, channelId: channel, content: 'b' });

    const bad = await RawGatewayClient.connect(discord.gatewayUrl);
    await bad.next();
    bad.send({ op: 6, d: { token: discord.botToken, session_id: 'f'.repeat(32), seq: 1 } });
    assert.deepEqual(await bad.next(), { op: 9, d: false, s: null, t: null });
    bad.close(1000);

    const second = await RawGatewayClient.connect(ready.d.resume_gateway_url);
    try {
      await second.next();
      second.send({ op: 6, d: { token: discord.botToken, session_id: ready.d.session_id, seq: lastSeen } });
      const replay1 = await second.next();
      const replay2 = await second.next();
      const resumed = await second.next();
      assert.deepEqual([replay1.t, replay1.d.id, replay1.s], ['MESSAGE_CREATE', a.id, (lastSeen ?? 0) + 1]);
      assert.deepEqual([replay2.t, replay2.d.id, replay2.s], ['MESSAGE_CREATE', b.id, (lastSeen ?? 0) + 2]);
      assert.equal(resumed.t, 'RESUMED');
      const live = discord.postMessage({ user, channelId: channel, content: 'live' });
      assert.equal((await second.nextDispatch('MESSAGE_CREATE')).d.id, live.id);
    } finally {
      second.close(1000);
      await discord.close();
    }
  });

  it('intents and the message-content rule decide what MESSAGE_CREATE carries', async () => {
    const discord = await FakeDiscord.start();
    const guild = discord.createGuild({ name: 'G' });
    const channel = discord.createChannel(guild.id, { name: 'c' });
    const user = discord.createUser({ username: 'u' });
    discord.addMember(guild.id, user);
    const client = await RawGatewayClient.connect(discord.gatewayUrl);
    try {
      await client.next();
      client.identify(discord.botToken, GUILDS | GUILD_MESSAGES);
      await client.nextDispatch('GUILD_CREATE');
      const plain = discord.postMessage({
        user,
        channelId: channel,
        content: 'secret prompt',
        attachments: [{ data: Buffer.from('x'), filename: 'x.txt' }],
      });
      const redacted = await client.nextDispatch('MESSAGE_CREATE');
      assert.equal(redacted.d.id, plain.id);
      assert.equal(redacted.d.content, '');
      assert.deepEqual(redacted.d.attachments, []);
      assert.equal(redacted.d.member.roles.length, 0);
      const mention = discord.postMessage({ user, channelId: channel, content: 'draw a cat', mentionsBot: true });
      const visible = await client.nextDispatch('MESSAGE_CREATE');
      assert.equal(visible.d.id, mention.id);
      assert.equal(visible.d.content, `<@${discord.applicationId}> draw a cat`);
      assert.equal(visible.d.mentions[0].id, discord.applicationId);
      const reply = discord.postMessage({ user, channelId: channel, content: 'again', replyTo: mention });
      const replyEvent = await client.nextDispatch('MESSAGE_CREATE');
      assert.equal(replyEvent.d.content, '', 'a reply to a user is not a mention of the bot');
      assert.equal(replyEvent.d.message_reference.message_id, mention.id);
      assert.equal(replyEvent.d.referenced_message.id, mention.id);
      assert.equal(replyEvent.d.id, reply.id);
      discord.postMessage({ user, dm: true, content: 'in a DM' });
      const dmCount = discord.dispatch('PING_MARKER', {}, {});
      assert.equal(dmCount, 1);
      const next = await client.next();
      assert.equal(next.t, 'PING_MARKER', 'no DIRECT_MESSAGES intent: the DM was not dispatched');
      assert.equal((discord.gatewaySessions()[0]?.intents ?? 0) & DIRECT_MESSAGES, 0);
    } finally {
      client.close(1000);
      await discord.close();
    }
  });

  it('session start rules: identify window (op 9), send rate limit (4008), exhausted session budget (4004)', async () => {
    const discord = await FakeDiscord.start({ gatewaySendLimitPerMinute: 5, sessionStartLimit: 2 });
    try {
      const first = await RawGatewayClient.connect(discord.gatewayUrl);
      await first.next();
      first.identify(discord.botToken, GUILDS);
      await first.nextDispatch('READY');
      const second = await RawGatewayClient.connect(discord.gatewayUrl);
      await second.next();
      second.identify(discord.botToken, GUILDS);
      assert.deepEqual(await second.next(), { op: 9, d: false, s: null, t: null }, 'a second IDENTIFY within 5 s');
      for (let i = 0; i < 5; i++) first.send({ op: 1, d: 1 });
      assert.equal((await first.closed).code, 4008);
      second.close(1000);

      const relaxed = await FakeDiscord.start({ sessionStartLimit: 1, identifyIntervalMs: 0 });
      try {
        const a = await RawGatewayClient.connect(relaxed.gatewayUrl);
        await a.next();
        a.identify(relaxed.botToken, GUILDS);
        await a.nextDispatch('READY');
        const b = await RawGatewayClient.connect(relaxed.gatewayUrl);
        await b.next();
        b.identify(relaxed.botToken, GUILDS);
        assert.equal((await b.closed).code, 4004, 'no IDENTIFY left today');
        a.close(1000);
      } finally {
        await relaxed.close();
      }
    } finally {
      await discord.close();
    }
  });

  it('a client that stops heartbeating is closed with 4009 when zombie detection is on', async () => {
    // Two intervals must outlast HELLO → IDENTIFY → READY, however busy the machine.
    const discord = await FakeDiscord.start({ heartbeatIntervalMs: scaled(500), zombieAfterIntervals: 2 });
    const client = await RawGatewayClient.connect(discord.gatewayUrl + '/');
    try {
      await client.next();
      client.identify(discord.botToken, GUILDS);
      assert.equal((await client.nextDispatch('READY')).t, 'READY');
      assert.equal((await client.closed).code, 4009);
      assert.equal(discord.gatewaySessions()[0]?.invalidated, false, 'the session stays resumable');
    } finally {
      await discord.close();
    }
  });

  it('interaction responses: ephemeral ones arrive like DMs (no guild_id/member), others without member', async () => {
    const discord = await FakeDiscord.start({ strictCommands: false });
    const guild = discord.createGuild({ name: 'G' });
    const channel = discord.createChannel(guild.id, { name: 'c' });
    const user = discord.createUser({ username: 'u' });
    discord.addMember(guild.id, user);
    const client = await RawGatewayClient.connect(discord.gatewayUrl);
    try {
      await client.next();
      client.identify(discord.botToken, GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES);
      await client.nextDispatch('GUILD_CREATE');
      const callback = async (content: string, flags: number): Promise<number> => {
        const handle = discord.sendSlashCommand({ user, channelId: channel, name: 'anything' });
        const interaction = (await client.nextDispatch('INTERACTION_CREATE')).d;
        assert.equal(interaction.id, handle.id);
        const res = await fetch(`${discord.apiUrl}/v10/interactions/${interaction.id}/${interaction.token}/callback`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ type: 4, data: { content, flags } }),
        });
        return res.status;
      };
      assert.equal(await callback('only you', 64), 204);
      const ephemeral = (await client.nextDispatch('MESSAGE_CREATE')).d;
      assert.equal(ephemeral.content, 'only you');
      assert.equal(ephemeral.guild_id, undefined);
      assert.equal(ephemeral.member, undefined);
      assert.equal(await callback('everyone', 0), 204);
      const visible = (await client.nextDispatch('MESSAGE_CREATE')).d;
      assert.equal(visible.guild_id, guild.id);
      assert.equal(visible.member, undefined, 'a webhook message has no member');
      assert.equal(visible.webhook_id, discord.applicationId);
      assert.equal(visible.interaction_metadata.user.id, user.id);
    } finally {
      client.close(1000);
      await discord.close();
    }
  });

  it('shards: each session gets the guilds of its shard only', async () => {
    const discord = await FakeDiscord.start({ recommendedShards: 2, maxConcurrency: 2 });
    const shardOf = (id: string, count: number): number => Number((BigInt(id) >> 22n) % BigInt(count));
    const guilds: string[] = [];
    // Ids made in the same millisecond share a shard: spread creations until both shards have guilds.
    while (guilds.length < 4 || new Set(guilds.map((id) => shardOf(id, 2))).size < 2) {
      guilds.push(discord.createGuild({ name: `g${guilds.length}` }).id);
      await sleep(1);
    }
    const clients = [await RawGatewayClient.connect(discord.gatewayUrl), await RawGatewayClient.connect(discord.gatewayUrl)];
    try {
      const seen: string[][] = [];
      for (const [shard, client] of clients.entries()) {
        await client.next();
        client.identify(discord.botToken, GUILDS, { shard: [shard, 2] });
        const ready = await client.nextDispatch('READY');
        assert.deepEqual(ready.d.shard, [shard, 2]);
        seen.push(ready.d.guilds.map((g: { id: string }) => g.id));
      }
      assert.deepEqual(
        seen[0],
        guilds.filter((id) => shardOf(id, 2) === 0),
      );
      assert.deepEqual(
        seen[1],
        guilds.filter((id) => shardOf(id, 2) === 1),
      );
    } finally {
      for (const client of clients) client.close(1000);
      await discord.close();
    }
  });
});
