import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { readPngText } from '../../src/image/index.js';
import type { ApiMessage } from '../fake-discord/api-types.js';
import { waitFor } from '../helpers/time-scale.js';
import { e2eOnRedis } from '../scale/remote-backend-world.js';
import { attachmentsOf, buttonIds, resultOf, startBotWorld, type BotWorld } from './bot-world.js';

/** The button of a message whose `custom_id` is `lc:<action>:…`. */
function button(message: ApiMessage, action: string): string {
  const id = buttonIds(message).find((c) => c.split(':')[1] === action);
  assert.ok(id, `a ${action} button on: ${message.content}`);
  return id;
}

function jobIdOf(message: ApiMessage): string {
  return button(message, 'reroll').split(':')[2]!;
}

/** Pids of the bot process's children running the pipeline (from /proc). */
function pipelinePids(parentPid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parentPid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('worker-main')) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until the process is gone (an orphan has no parent to notify us); kills it if it outlives the budget. */
async function waitForExit(pid: number): Promise<void> {
  try {
    await waitFor(() => !isRunning(pid), `process ${pid} ended after the bot died`);
  } catch (error) {
    process.kill(pid, 'SIGKILL');
    throw error;
  }
}

describe('restarts end to end (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld();
  });
  after(async () => {
    await world?.close();
  });

  it('Reroll, Remix, Info and Delete work on a result made before a restart (the job lives in SQLite)', async () => {
    const { discord, channel, alice, bob } = world;
    const result = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'an old mill', seed: '77', negative: 'people' },
      }),
    );
    const jobId = jobIdOf(result);
    assert.equal((await world.stopBot()).code, 0);
    await world.restartBot();

    const info = discord.clickButton({ user: bob, message: result, customId: button(result, 'info') });
    const infoResponse = await info.waitForResponse();
    assert.equal(infoResponse.type, 4);
    const infoData = infoResponse.data as { content?: string; flags?: number };
    assert.equal((infoData.flags ?? 0) & 64, 64);
    assert.match(infoData.content ?? '', /\*\*Prompt:\*\* an old mill/);
    assert.match(infoData.content ?? '', /\*\*Negative prompt:\*\* people/);
    assert.match(infoData.content ?? '', /\*\*Seed:\*\* `77`/);
    assert.match(infoData.content ?? '', new RegExp(`\\*\\*Job:\\*\\* \`${jobId}\``));

    const rerolled = await resultOf(discord.clickButton({ user: alice, message: result, customId: button(result, 'reroll') }));
    assert.match(rerolled.content, new RegExp(`^<@${alice.id}> \\*\\*an old mill\\*\\*`));
    assert.doesNotMatch(rerolled.content, /seed `77`/);
    const [png] = attachmentsOf(discord, rerolled);
    assert.match(readPngText(png!)['parameters'] ?? '', /^an old mill\nNegative prompt: people\n/);
    assert.equal(world.storedJob(jobIdOf(rerolled))?.parentJobId, jobId);

    const remix = discord.clickButton({ user: bob, message: result, customId: button(result, 'remix') });
    assert.equal((await remix.waitForResponse()).type, 9);
    const remixed = await resultOf(discord.submitModal({ from: remix, fields: { prompt: 'an old mill in winter' } }));
    assert.equal(remixed.attachments.length, 1, remixed.content);
    assert.equal(world.storedJob(jobIdOf(remixed))?.parentJobId, jobId);
    const metadata = await sharp(attachmentsOf(discord, remixed)[0]!).metadata();
    assert.deepEqual([metadata.width, metadata.height], [64, 64]);

    const deleted = discord.clickButton({ user: alice, message: result, customId: button(result, 'delete') });
    await deleted.waitFor((step) => step.kind === 'originalDeleted', { timeoutMs: 10_000 });
    assert.equal(discord.message(result.id), undefined);
  });

  // On the Redis backend a running job outlives the bot and is delivered after the restart (test/scale/bot-restart.e2e).
  it('jobs running or waiting when the bot process was killed are reported in their channel after the next start', {
    skip: e2eOnRedis && 'the job outlives the bot on a remote worker',
  }, async () => {
    const { discord, guild, channel, alice, bob } = world;
    const other = discord.createChannel(guild.id, { name: 'other' });
    const slow = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a very slow picture', width: 256, height: 256, steps: 50 },
    });
    const progress = await slow.waitForOriginal((m) => /step [1-9]\d*\/50/.test(m.content), { timeoutMs: 30_000 });
    const waiting = discord.sendSlashCommand({ user: bob, channelId: other.id, name: 'imagine', options: { prompt: 'a waiting picture' } });
    const queued = await waiting.waitForOriginal((m) => m.content.includes('queued — position **1**'), { timeoutMs: 15_000 });
    const runningJob = button(progress, 'cancel').split(':')[2]!;
    const waitingJob = button(queued, 'cancel').split(':')[2]!;
    // The bot stores a status message's id once Discord has answered its edit, after the fake shows the
    // message: a kill before that leaves nothing to mark after the restart. Kill once both are stored.
    await world.waitForJob(runningJob, (job) => job.statusMessageId === progress.id, 'it remembers its status message');
    await world.waitForJob(waitingJob, (job) => job.statusMessageId === queued.id, 'it remembers its status message');

    const killed = world.bot;
    const [pipeline] = pipelinePids(killed.process.pid!);
    assert.ok(pipeline, 'the pipeline process runs');
    killed.process.kill('SIGKILL');
    assert.equal((await killed.exited).signal, 'SIGKILL');
    await waitForExit(pipeline);
    assert.equal(world.storedJob(runningJob)?.status, 'running', 'the record still says running: nobody could update it');

    // Bob's status message cannot be edited after the restart (say, the bot lost access to it): the rest of
    // the report must still happen.
    const bobStatusEdit = (r: { method: string; path: string }) =>
      r.method === 'PATCH' && r.path === `/channels/${other.id}/messages/${queued.id}`;
    discord.injectFault({ route: bobStatusEdit, status: 403, body: { message: 'Missing Access', code: 50001 } });
    await world.restartBot();
    const aliceNotice = await discord.waitForMessage(
      channel.id,
      (m) => m.content.startsWith('<@') && m.content.includes('**a very slow picture**') && m.content.includes('restarted'),
      { timeoutMs: 15_000 },
    );
    assert.equal(
      aliceNotice.content,
      `<@${alice.id}> The bot restarted before your picture **a very slow picture** was done. Please ask again.`,
    );
    assert.deepEqual(
      aliceNotice.mentions.map((u) => u.id),
      [alice.id],
    );
    const bobNotice = await discord.waitForMessage(
      other.id,
      (m) => m.content.startsWith('<@') && m.content.includes('**a waiting picture**') && m.content.includes('restarted'),
      { timeoutMs: 15_000 },
    );
    assert.equal(bobNotice.content, `<@${bob.id}> The bot restarted before your picture **a waiting picture** was done. Please ask again.`);
    assert.equal(world.storedJob(runningJob)?.status, 'interrupted');
    assert.equal(world.storedJob(waitingJob)?.status, 'interrupted');

    // Alice's frozen progress message now says what happened and no longer offers Cancel.
    const marked = await discord.waitForMessage(channel.id, (m) => m.id === progress.id && m.content.startsWith('❌'), {
      timeoutMs: 15_000,
    });
    assert.equal(marked.content, '❌ **a very slow picture** — the bot restarted before this picture was done. Please ask again.');
    assert.deepEqual(buttonIds(marked), []);
    // (The log line travels through a pipe: wait for it rather than look once.)
    await world.bot.waitForLog((l) => l.msg === 'could not mark the status message of an interrupted job', 10_000);

    // Bob's message kept its stale Cancel button: it answers clearly.
    assert.equal(discord.message(queued.id)?.content, queued.content);
    const stale = discord.clickButton({ user: bob, message: queued, customId: button(queued, 'cancel') });
    const staleAnswer = await stale.waitForResponse();
    assert.equal(staleAnswer.type, 4);
    assert.match(String((staleAnswer.data as { content?: string }).content), /^❌ This job is not running or waiting any more\.$/);

    const fresh = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'after the crash', seed: '4' } }),
    );
    assert.equal(fresh.attachments.length, 1, 'the next job works');
    // (That a later start does not report them again is the store's markUnfinishedJobsInterrupted test.)
    const notices = (id: string) => discord.messages(id).filter((m) => m.content.includes('The bot restarted before')).length;
    assert.deepEqual([notices(channel.id), notices(other.id)], [1, 1], 'one notice per interrupted job');
  });
});
