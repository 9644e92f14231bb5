import { Client, Events, GatewayIntentBits, type ApplicationCommandDataResolvable, type ClientOptions } from 'discord.js';
import type { ApiChannel, ApiUser } from './api-types.js';
import { FakeDiscord, type FakeGuild } from './fake-discord.js';
import type { FakeDiscordOptions } from './options.js';

/** A fake Discord with a small world and a logged-in real discord.js client. */
export interface BotFixture {
  discord: FakeDiscord;
  client: Client<true>;
  guild: FakeGuild;
  /** A text channel `#general` where the bot has its default permissions. */
  channel: ApiChannel;
  /** A guild member `alice` with @everyone's permissions. */
  user: ApiUser;
  /** Destroys the client, then closes the fake. */
  close(): Promise<void>;
}

/** Options of {@link startBotFixture}. */
export interface BotFixtureOptions {
  fake?: FakeDiscordOptions;
  intents?: GatewayIntentBits[];
  client?: Partial<ClientOptions>;
  /** Commands the bot registers globally after login (as a real bot does at startup). */
  commands?: ApplicationCommandDataResolvable[];
}

/**
 * A heartbeat short enough to see a few in a test. Not shorter: discord.js drops the connection as a zombie
 * (and resumes) when the ACK of one heartbeat has not arrived by the next, and on a busy machine an ACK
 * can take a few hundred milliseconds.
 */
export const testHeartbeatIntervalMs = 1000;

/**
 * Starts a fake Discord (short heartbeat), builds guild + channel + member, and logs a real discord.js
 * client in against it — configured exactly as the bot is: `rest: { api: discord.apiUrl }`.
 * Resolves once the client emitted `clientReady` (READY and every GUILD_CREATE handled).
 */
export async function startBotFixture(options: BotFixtureOptions = {}): Promise<BotFixture> {
  const discord = await FakeDiscord.start({ heartbeatIntervalMs: testHeartbeatIntervalMs, ...options.fake });
  const guild = discord.createGuild({ name: 'Test Guild' });
  const channel = discord.createChannel(guild.id, { name: 'general' });
  const user = discord.createUser({ username: 'alice' });
  discord.addMember(guild.id, user.id);
  const client = new Client({
    intents: options.intents ?? [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
    ...options.client,
    rest: { api: discord.apiUrl, cdn: discord.cdnUrl, ...options.client?.rest },
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  try {
    await client.login(discord.botToken);
    await ready;
    if (options.commands) await client.application!.commands.set(options.commands);
  } catch (error) {
    await client.destroy();
    await discord.close();
    throw error;
  }
  return {
    discord,
    client: client as Client<true>,
    guild,
    channel,
    user,
    async close() {
      await client.destroy();
      await discord.close();
    },
  };
}

/** A promise and the functions that settle it. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise settled from the outside (for catching what a bot handler saw). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
