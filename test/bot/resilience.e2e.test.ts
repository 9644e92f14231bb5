import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle, InteractionStep } from '../fake-discord/index.js';
import { buttonIds, running, startBotWorld, type BotWorld } from './bot-world.js';

/** A job of the tiny model that runs for several seconds (about 80 ms per step at 256×256 on one busy core). */
const slowJob = { width: 256, height: 256, steps: 150 };
/** Room for slow jobs: the test config allows 50 steps at 256×256 at most. */
const roomForSlowJobs = { guildDefaults: { maxSteps: 150, maxPixels: 65536 } };

const ephemeral = (flags: unknown) => ((typeof flags === 'number' ? flags : 0) & 64) === 64;

/** A finished result (attachments) or failure (❌) in the interaction's original message. */
function resultOf(handle: InteractionHandle, timeoutMs = 60_000): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => (m.attachments ?? []).length > 0 || m.content.startsWith('❌'), { timeoutMs });
}

/** Milliseconds from dispatch to the accepted acknowledgement (callback), asserting there was one. */
async function ackMs(handle: InteractionHandle): Promise<number> {
  return (await handle.waitForResponse({ timeoutMs: 5000 })).elapsedMs;
}

/** A quick /imagine that must succeed: the bot still serves normally. */
async function quickImagineWorks(world: BotWorld, prompt: string): Promise<ApiMessage> {
  const message = await resultOf(
    world.discord.sendSlashCommand({ user: world.bob, channelId: world.channel.id, name: 'imagine', options: { prompt, seed: '11' } }),
  );
  assert.equal(message.attachments.length, 1, `a picture was delivered: ${message.content}`);
  return message;
}

/** The pipeline process: the child of the bot (or remote worker) process running worker-main.js (found through /proc). */
function pipelinePid(world: BotWorld): number | undefined {
  const parent = world.pipelineParentPid();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('worker-main')) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/**
 * Runs `during` while the pipeline process is stopped (SIGSTOP), so the job in it stays running however fast
 * the machine is; continues the process afterwards, also when `during` fails.
 */
async function whilePipelineHeld<T>(world: BotWorld, during: () => Promise<T>): Promise<T> {
  const pid = pipelinePid(world);
  assert.ok(pid, 'found the pipeline process');
  process.kill(pid, 'SIGSTOP');
  try {
    return await during();
  } finally {
    if (isAlive(pid)) process.kill(pid, 'SIGCONT');
  }
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function stepText(step: InteractionStep): string | undefined {
  if (step.kind === 'callback') return (step.data as { content?: string } | undefined)?.content;
  if (step.kind === 'followUp' || step.kind === 'originalEdited') return step.message.content;
  return undefined;
}

describe('resilience (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;
  /** An Apps › Remix form opened before the restart, on a picture the restarted bot does not have in its cache. */
  let formFromBefore: InteractionHandle | undefined;
  before(async () => {
    world = await startBotWorld({ config: roomForSlowJobs });
  });
  after(async () => {
    await world?.close();
  });

  it('acknowledges every interaction within 3 s while a long job runs, and before any download', async () => {
    const { discord, channel, alice, bob, admin } = world;
    const earlier = await quickImagineWorks(world, 'an earlier picture');
    const long = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a very slow picture', seed: '1', ...slowJob },
    });
    await running(long);

    const picture = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 80, b: 40 } } })
      .png()
      .toBuffer();
    const slowCdn = discord.uploadAttachment(picture, 'slow.png', 'image/png', { channelId: channel.id, behavior: { delayMs: 3200 } });
    const posted = discord.postMessage({
      user: bob,
      channelId: channel.id,
      content: 'a photo',
      attachments: [{ data: picture, filename: 'photo.png', contentType: 'image/png' }],
    });
    const [, , infoId] = buttonIds(earlier);

    const handles = {
      imagine: discord.sendSlashCommand({
        user: bob,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a waiting picture', seed: '2' },
      }),
      remixSlowCdn: discord.sendSlashCommand({
        user: bob,
        channelId: channel.id,
        name: 'remix',
        options: { prompt: 'a remix', image: slowCdn, seed: '3' },
      }),
      queue: discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'queue' }),
      settings: discord.sendSlashCommand({ user: admin, channelId: channel.id, name: 'settings', subcommand: 'show' }),
      info: discord.clickButton({ user: admin, message: earlier, customId: infoId! }),
      appsRemix: discord.sendMessageCommand({ user: admin, targetMessage: posted, name: 'Remix' }),
    };
    for (const [name, handle] of Object.entries(handles)) {
      const ms = await ackMs(handle);
      assert.ok(ms < 3000, `${name} acknowledged after ${ms} ms`);
    }
    assert.ok(handles.appsRemix.modal, 'the Apps › Remix form opened');
    assert.match(String(stepText(handles.queue.response!)), /Drawing:.*a very slow picture/s);

    // The owner cancels the long job (while it still runs, however fast the machine); the waiting ones then run.
    const cancel = discord.clickButton({ user: alice, message: long.original()!, customId: buttonIds(long.original()!)[0]! });
    assert.ok((await ackMs(cancel)) < 3000);
    assert.match((await resultOf(long)).content, /cancelled/);

    // The slow CDN answers 3.2 s after the request; the acknowledgement came long before.
    const download = await discord.waitForRequest((r) => r.kind === 'cdn' && r.path.includes(`/${slowCdn.id}/`), { timeoutMs: 15_000 });
    assert.ok(handles.remixSlowCdn.response!.at < download.at + download.durationMs - 2000, 'acknowledged before the download finished');
    assert.equal((await resultOf(handles.imagine)).attachments.length, 1);
    assert.equal((await resultOf(handles.remixSlowCdn)).attachments.length, 1);
  });

  it('survives the pipeline process being killed mid-job: a clear message, and the next jobs work', async () => {
    const { discord, channel, alice, bob } = world;
    const victim = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'an interrupted picture', ...slowJob },
    });
    await running(victim);
    const waiting = discord.sendSlashCommand({
      user: bob,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a picture behind it', seed: '4' },
    });
    await waiting.waitForOriginal((m) => /queued/.test(m.content), { timeoutMs: 10_000 });
    const pid = pipelinePid(world);
    assert.ok(pid, 'found the pipeline process');
    process.kill(pid, 'SIGKILL');

    const failed = await resultOf(victim);
    assert.match(failed.content, /^❌ .*crashed .* restarted\. Please try again\./);
    await world.bot.waitForLog((l) => l.msg === 'pipeline process restarted', 10_000);
    assert.equal((await resultOf(waiting)).attachments.length, 1, 'the job waiting behind it ran on the new process');
    assert.notEqual(pipelinePid(world), pid, 'a new pipeline process');
    await quickImagineWorks(world, 'after the crash');
    assert.equal(world.bot.process.exitCode, null, 'the bot kept running');
  });

  it('delivers the result as a channel message mentioning the user when the token expires mid-job', async () => {
    const { discord, channel, alice } = world;
    // The pipeline is held before the job arrives, so the job is still running when the token expires, however fast the machine.
    const handle = await whilePipelineHeld(world, async () => {
      const sent = discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a patient picture', seed: '5', width: 256, height: 256, steps: 20 },
      });
      await sent.waitForResponse({ timeoutMs: 5000 });
      sent.expireToken();
      return sent;
    });
    const posted = await discord.waitForMessage(channel, (m) => m.attachments.length > 0 && m.content.includes('a patient picture'), {
      timeoutMs: 60_000,
    });
    assert.match(posted.content, new RegExp(`^<@${alice.id}> \\*\\*a patient picture\\*\\*`));
    assert.deepEqual(
      posted.mentions.map((u) => u.id),
      [alice.id],
    );
    assert.equal(posted.webhook_id, undefined, 'a plain channel message, not an interaction response');
    assert.deepEqual(
      buttonIds(posted).map((id) => id.split(':')[1]),
      ['reroll', 'remix', 'info', 'delete', 'vary-subtle', 'vary-strong', 'upscale'],
    );
    assert.ok(
      handle.steps.some((s) => s.kind === 'webhookRejected' && s.code === 50027),
      'the token was really refused',
    );
    await world.bot.waitForLog((l) => l.msg === 'interaction token expired; result posted as a channel message', 5000);
  });

  it('resumes the gateway session after a disconnect while a job runs, and the result arrives', async () => {
    const { discord, channel, alice } = world;
    const sessions = discord.gatewaySessions().length;
    // Holding the pipeline process before the job arrives keeps it running for as long as the reconnect takes.
    const handle = await whilePipelineHeld(world, async () => {
      const sent = discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a picture across a reconnect', seed: '6', width: 128, height: 128, steps: 20 },
      });
      await sent.waitForResponse({ timeoutMs: 5000 });
      discord.dropGatewayConnection('abnormal');
      const resumed = await discord.waitForResume({ timeoutMs: 20_000 });
      assert.equal(resumed.kind, 'resume');
      assert.equal(resumed.path, '/gateway/resume');
      assert.equal(sent.original()?.attachments.length ?? 0, 0, 'the job was still running');
      return sent;
    });
    const message = await resultOf(handle);
    assert.equal(message.attachments.length, 1, message.content);
    assert.equal(discord.gatewaySessions().length, sessions, 'resumed, not identified again');
    // Events still reach the bot over the resumed session.
    await quickImagineWorks(world, 'after the resume');
  });

  it('delivers results although message edits are rate limited (429)', async () => {
    const { discord, channel, alice } = world;
    const editRoute = 'PATCH /webhooks/:applicationId/:token/messages/:messageId';
    discord.setRateLimits([{ route: editRoute, limit: 1, windowMs: 700, announce: false }]);
    discord.injectFault({ route: editRoute, status: 429, times: 2, retryAfterMs: 300 });
    try {
      const since = discord.requests.length;
      const handle = discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a throttled picture', seed: '7', width: 128, height: 128, steps: 30 },
      });
      const message = await resultOf(handle);
      assert.equal(message.attachments.length, 1, message.content);
      const limited = discord.requests.slice(since).filter((r) => r.rateLimited && r.route === editRoute);
      assert.ok(limited.length >= 2, `the bot met ${limited.length} 429s on its edits`);
    } finally {
      discord.setRateLimits([]);
      discord.clearFaults();
    }
  });

  it('answers an unexpected internal error with a reference that is in the logs', async () => {
    const { discord, channel, alice } = world;
    // Reading the channel's history fails with 500s (discord.js retries 3 times): not the user's fault.
    discord.injectFault({ route: 'GET /channels/:channelId/messages', status: 500, times: 4 });
    try {
      const handle = discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'remix',
        options: { prompt: 'the latest picture, remixed' },
      });
      assert.ok((await ackMs(handle)) < 3000);
      const step = await handle.waitFor((s) => /Something went wrong/.test(stepText(s) ?? ''), { timeoutMs: 20_000 });
      const text = stepText(step)!;
      assert.ok(step.kind === 'followUp' && ephemeral(step.message.flags), 'told privately');
      const ref = /\(ref `([0-9A-F]+)`\)/.exec(text)?.[1];
      assert.ok(ref, text);
      const logged = await world.bot.waitForLog((l) => l['ref'] === ref, 5000);
      assert.equal(logged.level, 50);
      assert.equal(logged.msg, 'interaction failed');
      assert.equal(logged['interaction'], handle.id);
      assert.equal(handle.original(), null, 'the public placeholder is gone');
    } finally {
      discord.clearFaults();
    }
    await quickImagineWorks(world, 'after the internal error');
  });

  it('never wrote the bot token in any log line, error paths included', () => {
    const token = world.discord.botToken;
    assert.ok(world.bot.output.length > 50, 'the bot logged plenty');
    assert.ok(
      world.bot.logs.some((l) => l.level >= 50),
      'error paths were logged',
    );
    const leaks = world.bot.output.filter((line) => line.includes(token));
    assert.deepEqual(leaks, []);
  });

  it('on SIGTERM, tells the waiting users, finishes the running job, exits 0 and starts again on the same database', async () => {
    const { discord, channel, alice, bob, admin } = world;
    const runningJob = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'the last picture', seed: '8', width: 256, height: 256, steps: 20 },
    });
    await running(runningJob);
    const picture = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 30, g: 90, b: 200 } } })
      .png()
      .toBuffer();
    const oldPhoto = discord.postMessage({
      user: bob,
      channelId: channel.id,
      content: 'an old photo',
      attachments: [{ data: picture, filename: 'old.png', contentType: 'image/png' }],
    });
    formFromBefore = discord.sendMessageCommand({ user: alice, targetMessage: oldPhoto, name: 'Remix' });
    await formFromBefore.waitForResponse();

    const before = world.bot;
    let exit!: ReturnType<BotWorld['stopBot']>;
    // The running job is held until the waiting users were told, so it is still running at SIGTERM.
    await whilePipelineHeld(world, async () => {
      const waiting = [
        discord.sendSlashCommand({ user: bob, channelId: channel.id, name: 'imagine', options: { prompt: 'a waiting picture' } }),
        discord.sendSlashCommand({ user: admin, channelId: channel.id, name: 'imagine', options: { prompt: 'another waiting picture' } }),
      ];
      for (const handle of waiting) await handle.waitForOriginal((m) => /queued/.test(m.content), { timeoutMs: 10_000 });
      exit = world.stopBot();
      for (const handle of waiting) assert.match((await resultOf(handle)).content, /^❌ .*restarting; this job was not started/);
      assert.equal(runningJob.original()?.attachments.length, 0, 'still running');
    });
    assert.equal((await resultOf(runningJob)).attachments.length, 1, 'the running job was finished and delivered');
    assert.deepEqual(await exit, { code: 0, signal: null });
    await world.bot.waitForLog((l) => l.msg === 'stopped');
    const statuses = world.jobCounts();
    assert.equal((statuses['queued'] ?? 0) + (statuses['running'] ?? 0), 0, `nothing left unfinished: ${JSON.stringify(statuses)}`);

    await world.restartBot();
    const message = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'after the restart', seed: '8' },
      }),
    );
    assert.equal(message.attachments.length, 1, message.content);
    // Checked only now: the report of interrupted jobs would come after 'connected to Discord', before this
    // job's 'job finished' line.
    await world.bot.waitForLog((l) => l.msg === 'job finished' && l['job'] === buttonIds(message)[0]!.split(':')[2]);
    assert.equal(
      world.bot.logs.some((l) => l.msg === 'jobs interrupted by the previous shutdown'),
      false,
    );
    for (const bot of [before, world.bot])
      assert.equal(
        bot.output.some((line) => line.includes(discord.botToken)),
        false,
        'no token in the logs',
      );
  });

  it('acknowledges an Apps › Remix form opened before the restart in time, although fetching its message is slow', async () => {
    const { discord } = world;
    assert.ok(formFromBefore?.modal, 'the form was opened before the restart');
    // The restarted bot has to fetch the message; Discord makes it wait 3.5 s (a 429).
    const messageRoute = 'GET /channels/:channelId/messages/:messageId';
    discord.injectFault({ route: messageRoute, status: 429, times: 1, retryAfterMs: 3500 });
    try {
      const since = discord.requests.length;
      const submitted = discord.submitModal({ from: formFromBefore, fields: { prompt: 'an old photo, repainted', strength: '0.6' } });
      const ms = await ackMs(submitted);
      assert.ok(ms < 3000, `acknowledged after ${ms} ms`);
      const message = await resultOf(submitted);
      assert.equal(message.attachments.length, 1, message.content);
      assert.ok(
        discord.requests.slice(since).some((r) => r.route === messageRoute && r.rateLimited),
        `the message was fetched, slowly: ${discord.requests
          .slice(since)
          .map((r) => `${r.route} ${r.status}`)
          .join(', ')}`,
      );
    } finally {
      discord.clearFaults();
    }
  });
});

describe('limits: a job that hangs past queue.jobTimeoutSeconds', () => {
  let world: BotWorld;
  let stopped: number | undefined;
  before(async () => {
    world = await startBotWorld({ config: { ...roomForSlowJobs, queue: { jobTimeoutSeconds: 4 } } });
  });
  after(async () => {
    if (stopped !== undefined && isAlive(stopped)) process.kill(stopped, 'SIGKILL');
    await world?.close();
  });

  it('stops a hung job with a clear message, replaces the hung process, and the next job works', async () => {
    const { discord, channel, alice } = world;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a stuck picture', ...slowJob },
    });
    await running(handle);
    stopped = pipelinePid(world);
    assert.ok(stopped, 'found the pipeline process');
    process.kill(stopped, 'SIGSTOP'); // a real hang: no more steps, no answer to cancel
    const message = await resultOf(handle, 20_000);
    assert.match(message.content, /^❌ .*took longer than 4 s and was stopped/);
    await world.bot.waitForLog((l) => l.msg === 'pipeline process restarted' && /exceeded 4 s/.test(String(l['reason'])), 5000);
    await quickImagineWorks(world, 'after the hang');
    assert.equal(isAlive(stopped), false, 'the hung process was killed');
  });
});

// A world of its own: with the 4 s job timeout above, a slow step on a busy machine could let the timeout
// stop the job before the grace time ran out, which is not what this test is about.
describe('limits: SIGTERM past shutdown.graceSeconds', () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld({ config: { ...roomForSlowJobs, shutdown: { graceSeconds: 1 } } });
  });
  after(async () => {
    await world?.close();
  });

  it('on SIGTERM, cancels a job that outlasts the grace time, tells its owner, and exits 0', async () => {
    const { discord, channel, alice } = world;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a picture too slow to wait for', ...slowJob },
    });
    const progress = await running(handle);
    const jobId = buttonIds(progress)
      .find((id) => id.startsWith('lc:cancel:'))
      ?.split(':')[2];
    assert.ok(jobId, `a Cancel button on: ${progress.content}`);
    const exit = world.stopBot();
    const stopped = await resultOf(handle);
    assert.match(stopped.content, /^❌ .*cancelled/, 'cancelled after the grace time');
    assert.deepEqual(await exit, { code: 0, signal: null });
    assert.equal(world.storedJob(jobId)?.status, 'cancelled', 'recorded as cancelled');
    const statuses = world.jobCounts();
    assert.equal((statuses['queued'] ?? 0) + (statuses['running'] ?? 0), 0, `nothing left unfinished: ${JSON.stringify(statuses)}`);
  });
});
