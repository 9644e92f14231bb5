import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FakeDiscord } from '../fake-discord/index.js';

const run = promisify(execFile);
const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

describe('deploy-commands (real CLI against the fake Discord)', () => {
  let discord: FakeDiscord;
  let dataDir: string;
  before(async () => {
    discord = await FakeDiscord.start();
    dataDir = mkdtempSync(join(tmpdir(), 'latentcord-deploy-'));
  });
  after(async () => {
    await discord.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function deploy(...args: string[]): Promise<string> {
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: dataDir,
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
      LATENTCORD_DATA_DIR: dataDir,
    };
    const { stdout } = await run(process.execPath, [cliPath, 'deploy-commands', ...args], { env });
    return stdout;
  }
  const puts = () => discord.requests.filter((r) => r.method === 'PUT' && r.route?.includes('/commands')).length;

  it('registers the commands once, skips unchanged definitions, and registers again with --force', async () => {
    assert.match(await deploy(), /^Registered 6 commands \(global:\d+\)\./);
    assert.deepEqual(
      discord
        .commands()
        .map((c) => c.name)
        .sort(),
      ['Remix', 'history', 'imagine', 'queue', 'remix', 'settings'],
    );
    assert.equal(puts(), 1);
    const creations = discord.commandCreations();

    assert.match(await deploy(), /Commands unchanged since the last registration/);
    assert.equal(puts(), 1, 'no API call for unchanged commands');
    assert.equal(discord.commandCreations(), creations);

    assert.match(await deploy('--force'), /^Registered 6 commands/);
    assert.equal(puts(), 2);
  });

  it('registers in one server with --guild, tracked separately from the global commands', async () => {
    const guild = discord.createGuild({ name: 'Dev Server' });
    assert.match(await deploy('--guild', guild.id), new RegExp(`^Registered 6 commands \\(guild:\\d+:${guild.id}\\)`));
    assert.equal(discord.commands(guild.id).length, 6);
    assert.match(await deploy('--guild', guild.id), /unchanged/);
  });

  it('refuses a malformed server id before any call', async () => {
    const before = discord.requests.length;
    await assert.rejects(deploy('--guild', 'abc'), (error: unknown) =>
      /Expected `--guild` to be a server id/.test(String((error as { stderr?: string }).stderr)),
    );
    assert.equal(discord.requests.length, before);
  });
});
