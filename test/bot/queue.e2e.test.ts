import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { ApiMessage, ApiUser } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { attachmentsOf, buttonIds, resultOf as settledMessageOf, running, startBotWorld, type BotWorld } from './bot-world.js';

/**
 * A job that holds the pipeline for a second or two (the tiny model at 256×256 takes 80–200 ms a step on a
 * busy core): long enough to queue others behind it, short enough to wait for.
 */
const blockerOptions = { prompt: 'a long blocker', width: 256, height: 256, steps: 30, seed: '1' };

/** The result (or failure) of a job; jobs here may wait behind a blocker, so the budget is longer. */
function resultOf(handle: InteractionHandle): Promise<ApiMessage> {
  return settledMessageOf(handle, 90_000);
}

/** Resolves once the job's message shows it waiting at `position`. */
function queuedAt(handle: InteractionHandle, position: number): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.content.includes(`queued — position **${position}**`), { timeoutMs: 15_000 });
}

/** Every queue position the job's message showed, in order. */
function positionsShown(handle: InteractionHandle): number[] {
  const shown: number[] = [];
  for (const step of handle.steps) {
    if (step.kind !== 'originalEdited' && step.kind !== 'followUp') continue;
    const match = /queued — position \*\*(\d+)\*\*/.exec(step.message.content);
    if (match && shown[shown.length - 1] !== Number(match[1])) shown.push(Number(match[1]));
  }
  return shown;
}

/** The `lc:cancel:<job>` button of a waiting or running job's message. */
function cancelButtonOf(message: ApiMessage): string {
  const id = buttonIds(message).find((c) => c.startsWith('lc:cancel:'));
  assert.ok(id, `a Cancel button: ${message.content}`);
  return id;
}

function jobIdOf(message: ApiMessage): string {
  const id = buttonIds(message)[0];
  assert.ok(id, `buttons on: ${message.content}`);
  return id.split(':')[2]!;
}

/** Stored start times of jobs, by id. */
function startTimes(world: BotWorld, jobIds: readonly string[]): number[] {
  return jobIds.map((id) => {
    const startedAt = world.storedJob(id)?.startedAt;
    assert.ok(typeof startedAt === 'number', `job ${id} started`);
    return startedAt;
  });
}

/** The final status of a job, once the bot recorded it (the record follows the message that shows it). */
async function settledStatus(world: BotWorld, jobId: string): Promise<string> {
  return (await world.settledJob(jobId)).status;
}

describe('the queue end to end (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;
  let carol: ApiUser;
  let dave: ApiUser;

  const imagine = (user: ApiUser, options: Record<string, string | number>) =>
    world.discord.sendSlashCommand({ user, channelId: world.channel.id, name: 'imagine', options: { prompt: 'x', ...options } });

  before(async () => {
    // Quick edits, so that every change of position reaches the messages.
    world = await startBotWorld({ config: { progress: { editIntervalMs: 100 } } });
    carol = world.discord.createUser({ username: 'carol' });
    dave = world.discord.createUser({ username: 'dave' });
    world.discord.addMember(world.guild.id, carol.id);
    world.discord.addMember(world.guild.id, dave.id);
  });
  after(async () => {
    await world?.close();
  });

  it('several users at once: each sees its position and its updates, is served in order (FIFO), and gets a result', async () => {
    const blocker = imagine(world.admin, blockerOptions);
    await running(blocker);
    // Different sizes, so no two can share a batch: the order is the queue's alone.
    const users = [world.alice, world.bob, carol, dave];
    const sizes = [
      [64, 80],
      [80, 64],
      [96, 64],
      [64, 96],
    ] as const;
    const handles = users.map((user, i) =>
      imagine(user, { prompt: `job ${i + 1}`, width: sizes[i]![0], height: sizes[i]![1], steps: 8, seed: String(i) }),
    );
    for (const handle of handles) assert.equal((await handle.waitForResponse()).type, 5, 'acknowledged at once');

    const results = await Promise.all(handles.map(resultOf));
    await resultOf(blocker);
    // Read from the recorded edits, so the check does not race the queue moving on.
    handles.forEach((handle, i) =>
      assert.equal(positionsShown(handle)[0], i + 1, `${users[i]!.username} was first shown position ${i + 1}`),
    );
    results.forEach((result, i) => {
      assert.equal(result.attachments.length, 1, `${users[i]!.username} got a picture: ${result.content}`);
      assert.match(result.content, new RegExp(`^<@${users[i]!.id}> \\*\\*job ${i + 1}\\*\\*`));
    });
    const starts = startTimes(world, results.map(jobIdOf));
    for (let i = 1; i < starts.length; i++)
      assert.ok(starts[i - 1]! <= starts[i]!, `job ${i} started before job ${i + 1} (${starts.join(', ')})`);
    const lastShown = positionsShown(handles[3]!);
    assert.equal(lastShown[0], 4, 'the last one first saw position 4');
    assert.ok(
      lastShown.length >= 2 && lastShown.every((p, i) => i === 0 || p < lastShown[i - 1]!),
      `its position went down as others started: ${lastShown.join(' → ')}`,
    );
  });

  it('once the pipeline has finished a job, waiting jobs are shown their expected wait', async () => {
    await resultOf(imagine(world.alice, { prompt: 'pace maker', seed: '3', steps: 8 }));
    const blocker = imagine(world.admin, blockerOptions);
    await running(blocker);
    const waiting = imagine(world.bob, { prompt: 'patient', seed: '5', width: 80, steps: 8 });
    const shown = await waiting.waitForOriginal((m) => m.content.includes('queued — position **1**'), { timeoutMs: 15_000 });
    assert.match(shown.content, /queued — position \*\*1\*\* · about \d+ (s|min)$/);
    await Promise.all([resultOf(blocker), resultOf(waiting)]);
  });

  it('mentions are served in the order they were sent, even when the first status reply is slow to post', async () => {
    const { discord, guild, channel, alice, bob } = world;
    const side = discord.createChannel(guild.id, { name: 'side' });
    const blocker = imagine(world.admin, blockerOptions);
    await running(blocker);
    // Alice's status reply takes 1.5 s to post; Bob's (another channel, so another REST queue) does not.
    discord.injectDelay({ route: (r) => r.method === 'POST' && r.path === `/channels/${channel.id}/messages`, delayMs: 1500 });
    const first = discord.postMessage({
      user: alice,
      channelId: channel.id,
      content: 'imagine first mention width:80 steps:8',
      mentionsBot: true,
    });
    const second = discord.postMessage({
      user: bob,
      channelId: side.id,
      content: 'imagine second mention width:96 steps:8',
      mentionsBot: true,
    });
    const resultFor = (mention: ApiMessage) =>
      discord.waitForMessage(
        mention.channel_id,
        (m) => m.message_reference?.message_id === mention.id && (m.attachments.length > 0 || m.content.startsWith('❌')),
        { timeoutMs: 90_000 },
      );
    const [firstResult, secondResult] = await Promise.all([resultFor(first), resultFor(second)]);
    await resultOf(blocker);
    assert.match(firstResult.content, new RegExp(`^<@${alice.id}> \\*\\*first mention\\*\\*`));
    assert.match(secondResult.content, new RegExp(`^<@${bob.id}> \\*\\*second mention\\*\\*`));
    const [firstStart, secondStart] = startTimes(world, [jobIdOf(firstResult), jobIdOf(secondResult)]);
    assert.ok(firstStart! <= secondStart!, `the first mention ran first (started ${firstStart} vs ${secondStart})`);
  });

  it('a mention whose status reply Discord refused is not drawn (nobody could follow or cancel it)', async () => {
    const { discord, channel, alice } = world;
    discord.injectFault({
      route: (r) => r.method === 'POST' && r.path === `/channels/${channel.id}/messages`,
      status: 403,
      body: { message: 'Missing Permissions', code: 50013 },
    });
    const mention = discord.postMessage({ user: alice, channelId: channel.id, content: 'imagine an unseen picture', mentionsBot: true });
    const answer = await discord.waitForMessage(channel.id, (m) => m.message_reference?.message_id === mention.id, { timeoutMs: 15_000 });
    assert.match(answer.content, /^❌ Something went wrong on my side \(ref `[^`]+`\)/);
    // This mention's own job, not counts over all jobs: a job of an earlier test may still be settling.
    const jobId = await world.submittedJobId((line) => line['user'] === alice.id && line['prompt'] === 'an unseen picture');
    const job = await world.settledJob(jobId);
    assert.equal(job.status, 'cancelled', 'nothing was drawn');
    assert.equal(job.errorIdentifier, 'job.cancelled');
    assert.equal(job.resultMessageId, null);
  });

  it('compatible jobs are batched, and each batched picture equals the same job run alone', async () => {
    const blocker = imagine(world.admin, blockerOptions);
    await running(blocker);
    const jobs: { user: ApiUser; options: Record<string, string | number> }[] = [
      { user: world.alice, options: { prompt: 'a red apple', seed: '101', steps: 6 } },
      { user: world.bob, options: { prompt: 'a green pear', seed: '202', steps: 6, negative: 'leaves' } },
      { user: carol, options: { prompt: 'a yellow banana', seed: '303', steps: 6, count: 2 } },
    ];
    const handles = jobs.map(({ user, options }) => imagine(user, options));
    const batched = await Promise.all(handles.map(resultOf));
    await resultOf(blocker);
    const ids = batched.map(jobIdOf);
    // The log line comes through a pipe, the result through a socket: wait for the line rather than look once.
    const batchLine = await world.bot.waitForLog(
      (line) => line.msg === 'batch generated' && Array.isArray(line['jobs']) && (line['jobs'] as string[]).some((id) => ids.includes(id)),
      10_000,
    );
    assert.deepEqual([...(batchLine['jobs'] as string[])].sort(), [...ids].sort(), 'the three jobs ran as one UNet batch');
    assert.equal(batchLine['images'], 4);

    for (const [i, { user, options }] of jobs.entries()) {
      const alone = await resultOf(imagine(user, options));
      const aloneIds = jobIdOf(alone);
      const aloneLine = await world.bot.waitForLog(
        (line) => line.msg === 'batch generated' && Array.isArray(line['jobs']) && (line['jobs'] as string[]).includes(aloneIds),
        10_000,
      );
      assert.deepEqual(aloneLine['jobs'], [aloneIds], 'ran alone');
      const together = attachmentsOf(world.discord, batched[i]!);
      const solo = attachmentsOf(world.discord, alone);
      assert.equal(together.length, solo.length);
      for (let k = 0; k < solo.length; k++) {
        assert.ok(
          (await sharp(together[k]!).raw().toBuffer()).equals(await sharp(solo[k]!).raw().toBuffer()),
          `${options.prompt} #${k + 1}: batched = alone`,
        );
      }
    }
  });

  it('Cancel: the owner cancels a waiting job (others move up) and a running one; someone else is refused', async () => {
    const { discord, alice, bob } = world;
    // Cancelled while it runs, so it may be long.
    const blocker = imagine(alice, { ...blockerOptions, prompt: 'alice long job', steps: 50 });
    const runningMessage = await running(blocker);
    const waiting = imagine(alice, { prompt: 'alice waiting', seed: '5', width: 80 });
    const behind = imagine(bob, { prompt: 'bob behind', seed: '6', width: 96 });
    const waitingMessage = await queuedAt(waiting, 1);
    await queuedAt(behind, 2);

    const foreign = discord.clickButton({ user: bob, message: waitingMessage, customId: cancelButtonOf(waitingMessage) });
    const refusal = await foreign.waitForResponse();
    assert.equal(refusal.type, 4);
    assert.equal(((refusal.data as { flags?: number }).flags ?? 0) & 64, 64, 'privately');
    assert.match(String((refusal.data as { content?: string }).content), /^❌ Only the person who asked for this picture can cancel it\.$/);

    const own = discord.clickButton({ user: alice, message: waitingMessage, customId: cancelButtonOf(waitingMessage) });
    assert.equal((await own.waitForResponse()).type, 6, 'the click is acknowledged as an update');
    const cancelled = await resultOf(waiting);
    assert.match(cancelled.content, /^❌ \*\*alice waiting\*\* — Cancelled before it started\.$/);
    assert.deepEqual(buttonIds(cancelled), [], 'no buttons left');
    await queuedAt(behind, 1);

    const stop = discord.clickButton({ user: alice, message: runningMessage, customId: cancelButtonOf(runningMessage) });
    await stop.waitForResponse();
    const stopped = await resultOf(blocker);
    assert.match(stopped.content, /^❌ \*\*alice long job\*\* — The generation was cancelled\.$/);
    assert.equal(stopped.attachments.length, 0);

    const served = await resultOf(behind);
    assert.equal(served.attachments.length, 1, 'the next job runs normally');
    assert.equal(await settledStatus(world, cancelButtonOf(waitingMessage).split(':')[2]!), 'cancelled');
    assert.equal(await settledStatus(world, cancelButtonOf(runningMessage).split(':')[2]!), 'cancelled');
    assert.equal(await settledStatus(world, jobIdOf(served)), 'succeeded');
  });

  it('a request whose acknowledgement Discord refused (too late) is not drawn and shows nothing', async () => {
    const { discord, guild, channel } = world;
    const erin = discord.createUser({ username: 'erin' });
    discord.addMember(guild.id, erin.id);
    const late = imagine(erin, { ...blockerOptions, prompt: 'nobody sees this', steps: 50 });
    late.expireAcknowledgement();
    const rejected = await late.waitFor((step) => step.kind === 'callbackRejected', { timeoutMs: 10_000 });
    assert.equal(rejected.kind === 'callbackRejected' && rejected.code, 10062);
    const lateJob = await world.submittedJobId((line) => line['user'] === erin.id);
    // A job queued after it runs after it (FIFO): once that one is delivered, the late one has left the pipeline.
    const probe = await resultOf(imagine(world.bob, { prompt: 'probe', seed: '9' }));
    assert.equal(probe.attachments.length, 1);
    // Each job's own record (counts over all jobs could still be moved by an earlier test's job).
    assert.equal(await settledStatus(world, jobIdOf(probe)), 'succeeded');
    assert.equal(await settledStatus(world, lateJob), 'cancelled', 'the late one was not drawn, and is not left waiting or running');
    assert.deepEqual(
      late.steps.filter((step) => step.kind !== 'callbackRejected' && step.kind !== 'webhookRejected').map((step) => step.kind),
      [],
      'no message was made or edited',
    );
    assert.equal(
      discord.messages(channel.id).some((m) => m.content.includes('nobody sees this')),
      false,
    );
  });

  it('/queue shows what runs and what waits, privately', async () => {
    const { discord, channel, alice, bob } = world;
    await resultOf(imagine(carol, { prompt: 'pace maker', seed: '6', steps: 4 }));
    const blocker = imagine(world.admin, { ...blockerOptions, prompt: 'the big one' });
    await running(blocker);
    const first = imagine(alice, { prompt: 'first *waiting*', width: 80 });
    const second = imagine(bob, { prompt: 'second waiting', width: 96 });
    await queuedAt(second, 2);
    const listing = discord.sendSlashCommand({ user: carol, channelId: channel.id, name: 'queue' });
    const response = await listing.waitForResponse();
    assert.equal(response.type, 4);
    const data = response.data as { content?: string; flags?: number; allowed_mentions?: { parse?: string[] } };
    assert.equal((data.flags ?? 0) & 64, 64);
    // A job has run, so the pace is known and each waiting job shows its expected wait.
    const waitPattern = / · about \d+ (s|min)$/;
    const lines = (data.content ?? '').split('\n');
    assert.ok(waitPattern.test(lines[2]!) && waitPattern.test(lines[3]!), data.content);
    assert.equal(
      lines.map((line) => line.replace(waitPattern, '')).join('\n'),
      [
        `🎨 **Drawing:** <@${world.admin.id}> — the big one`,
        '⏳ **Waiting (2):**',
        `1. <@${alice.id}> — first \\*waiting\\*`,
        `2. <@${bob.id}> — second waiting`,
      ].join('\n'),
    );
    await Promise.all([resultOf(blocker), resultOf(first), resultOf(second)]);
    const empty = await discord.sendSlashCommand({ user: carol, channelId: channel.id, name: 'queue' }).waitForResponse();
    assert.equal((empty.data as { content?: string }).content, '🎨 Nothing is being drawn right now.\n⏳ The queue is empty.');
  });
});
