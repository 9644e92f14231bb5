import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ApiMessage } from '../fake-discord/api-types.js';
import { e2eOnRedis } from '../scale/remote-backend-world.js';
import { startBotWorld, type BotWorld, type LogLine } from '../bot/bot-world.js';
import { waitFor } from '../helpers/time-scale.js';
import { httpRequest, sampleValue } from './http-client.js';

const stages = ['queueWait', 'encode', 'denoise', 'decode', 'png', 'upload'] as const;
const hasProc = existsSync('/proc/self/net/tcp');

/** Waits until the interaction's original message shows a finished result or an error. */
function resultOf(handle: {
  waitForOriginal(p: (m: ApiMessage) => boolean, o?: { timeoutMs?: number }): Promise<ApiMessage>;
}): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => (m.attachments ?? []).length > 0 || m.content.startsWith('❌'), { timeoutMs: 60_000 });
}

/** TCP ports a process listens on, from its socket fds and the kernel's socket tables (Linux). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // the fd closed while listing
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A' || !inodes.has(fields[9]!)) continue;
      ports.push(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Pids of the pipeline processes the bot process forked. */
function pipelineChildren(pid: number): number[] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
  );
  return children.filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('worker-main.js');
    } catch {
      return false;
    }
  });
}

describe('HTTP endpoint of the real bot process (LATENTCORD_HTTP_PORT=0)', { skip: !hasProc && 'needs Linux /proc' }, () => {
  let world: BotWorld;
  let url: string;
  before(async () => {
    world = await startBotWorld({ env: { LATENTCORD_HTTP_PORT: '0' } });
    url = String((await world.bot.waitForLog((line) => line.msg === 'http endpoint listening'))['address']);
  });
  after(async () => {
    await world?.close();
  });

  const jobFinishedLines = (): LogLine[] => world.bot.logs.filter((line) => line.msg === 'job finished');

  it('logs its address on 127.0.0.1 and is the only port the bot listens on', () => {
    const address = new URL(url);
    assert.equal(address.hostname, '127.0.0.1');
    assert.ok(Number(address.port) > 0);
    assert.deepEqual(listeningPorts(world.bot.process.pid!), [Number(address.port)]);
  });

  it('GET /healthz is 200 once connected to Discord with the pipeline ready', async () => {
    const answer = await httpRequest(url, { path: '/healthz' });
    assert.equal(answer.status, 200, answer.body);
    const body = JSON.parse(answer.body);
    assert.equal(body.status, 'ok');
    assert.deepEqual(body.discord, { ready: true, status: 'Ready' });
    const { ready, restarts, stage, loadMs } = body.pipeline;
    // Remote workers report no start-up stage to the bot; a local process does.
    assert.deepEqual({ ready, restarts, stage }, { ready: true, restarts: 0, stage: e2eOnRedis ? undefined : 'ready' });
    if (!e2eOnRedis) assert.ok(loadMs > 0, `loadMs ${loadMs}`);
    assert.deepEqual(body.queue, { waiting: 0, running: 0 });
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    assert.equal((await httpRequest(url, { path: '/' })).status, 404);
    assert.equal((await httpRequest(url, { path: '/api/metrics' })).status, 404);
    const post = await httpRequest(url, { method: 'POST', path: '/metrics' });
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
  });

  it('after a few jobs /metrics shows the job counters and stage histograms that match the logs', async () => {
    const { discord, channel, alice } = world;
    const first = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a red boat', seed: '1', steps: 5, count: 2 },
      }),
    );
    const second = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a blue boat', seed: '2', steps: 3 },
      }),
    );
    assert.equal(first.attachments.length, 2);
    assert.equal(second.attachments.length, 1);
    await world.bot.waitForLog(() => jobFinishedLines().length >= 2);

    const finished = jobFinishedLines();
    assert.equal(finished.length, 2);
    for (const line of finished) {
      assert.deepEqual([line['outcome'], line['guild'], line['user']], ['succeeded', world.guild.id, alice.id]);
      assert.deepEqual(Object.keys(line['stages'] as object).sort(), [...stages].sort());
    }
    const batches = world.bot.logs.filter((line) => line.msg === 'batch generated');
    assert.equal(batches.length, 2);

    const answer = await httpRequest(url, { path: '/metrics' });
    assert.equal(answer.status, 200);
    const text = answer.body;
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="succeeded",error="none"}'), 2);
    assert.doesNotMatch(text, /latentcord_jobs_total\{outcome="(failed|cancelled|interrupted)"/);
    for (const stage of stages) {
      assert.equal(sampleValue(text, `latentcord_job_stage_duration_seconds_count{stage="${stage}"}`), 2, stage);
      const loggedMs = finished.reduce((sum, line) => sum + (line['stages'] as Record<string, number>)[stage]!, 0);
      const seconds = sampleValue(text, `latentcord_job_stage_duration_seconds_sum{stage="${stage}"}`)!;
      assert.ok(Math.abs(seconds * 1000 - loggedMs) <= 1.001, `${stage}: ${seconds} s vs ${loggedMs} ms logged (rounded per job)`);
    }
    const stepSeconds = batches.reduce((sum, line) => sum + (line['denoise'] as number) / (line['steps'] as number) / 1000, 0);
    assert.equal(sampleValue(text, 'latentcord_denoise_step_duration_seconds_count'), 2);
    assert.ok(Math.abs(sampleValue(text, 'latentcord_denoise_step_duration_seconds_sum')! - stepSeconds) < 1e-9);
    assert.deepEqual(
      batches.map((line) => line['steps']),
      [5, 3],
    );
    assert.equal(sampleValue(text, 'latentcord_batches_total'), 2);
    assert.equal(sampleValue(text, 'latentcord_images_generated_total'), 3);
    assert.equal(sampleValue(text, 'latentcord_queue_length'), 0);
    assert.equal(sampleValue(text, 'latentcord_jobs_running'), 0);
    assert.equal(sampleValue(text, 'latentcord_pipeline_ready'), 1);
    assert.equal(sampleValue(text, 'latentcord_pipeline_restarts_total'), 0);
    assert.equal(sampleValue(text, 'latentcord_discord_ready'), 1);
    assert.equal(sampleValue(text, 'latentcord_discord_gateway_status{status="Ready"}'), 1);
    assert.ok(sampleValue(text, 'latentcord_process_resident_memory_bytes')! > 10_000_000);
    assert.doesNotMatch(text, /boat/, 'no prompts in the metrics');
  });

  // On the Redis backend the pipeline runs in a worker, which counts its own restarts (test/scale/worker-command).
  it('a pipeline crash mid-job: the job fails, /healthz is 503 while the process restarts, then 200; counters follow', {
    skip: e2eOnRedis && 'local pipeline process only',
  }, async () => {
    const { discord, channel, alice } = world;
    const botPid = world.bot.process.pid!;
    const [crashing] = pipelineChildren(botPid);
    assert.ok(crashing, 'the bot has a pipeline process');
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: { prompt: 'a long one', seed: '3', steps: 50, width: 256, height: 256 },
    });
    await world.bot.waitForLog(
      (line) => line.msg === 'job started' && line['user'] === alice.id && !jobFinishedLines().some((done) => done['job'] === line['job']),
    );
    process.kill(crashing, 'SIGKILL');
    await world.bot.waitForLog((line) => line.msg === 'pipeline process restarted');
    // The log line is written off the main thread and can arrive while the bot is still forking.
    const replacement = await waitFor(
      () => pipelineChildren(botPid).find((pid) => pid !== crashing),
      'a new pipeline process was started',
      { intervalMs: 5 },
    );
    // Hold the replacement before it finishes loading (that takes seconds), so the restart is observable.
    process.kill(replacement, 'SIGSTOP');
    try {
      const answer = await httpRequest(url, { path: '/healthz' });
      assert.equal(answer.status, 503, answer.body);
      const body = JSON.parse(answer.body);
      assert.equal(body.reason, 'pipeline process restarting');
      assert.deepEqual(body.pipeline, { ready: false, restarts: 1, stage: 'loading' });
      const text = (await httpRequest(url, { path: '/metrics' })).body;
      assert.equal(sampleValue(text, 'latentcord_pipeline_ready'), 0);
      assert.equal(sampleValue(text, 'latentcord_pipeline_restarts_total'), 1);
    } finally {
      process.kill(replacement, 'SIGCONT');
    }
    const reply = await resultOf(handle);
    assert.match(reply.content, /^❌/);

    let last = '';
    const health = await waitFor(
      async () => {
        const answer = await httpRequest(url, { path: '/healthz' });
        last = `${answer.status} ${answer.body}`;
        return answer.status === 200 && answer;
      },
      () => `/healthz answers 200 again (last: ${last})`,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    assert.equal(health.status, 200, health.body);
    const { ready, restarts, stage } = JSON.parse(health.body).pipeline;
    assert.deepEqual({ ready, restarts, stage }, { ready: true, restarts: 1, stage: 'ready' });
    const text = (await httpRequest(url, { path: '/metrics' })).body;
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="failed",error="worker.crashed"}'), 1);
    assert.equal(sampleValue(text, 'latentcord_jobs_total{outcome="succeeded",error="none"}'), 2);
    assert.equal(sampleValue(text, 'latentcord_job_stage_duration_seconds_count{stage="queueWait"}'), 3);
    assert.equal(
      sampleValue(text, 'latentcord_job_stage_duration_seconds_count{stage="denoise"}'),
      2,
      'the crashed job never got denoise timings',
    );
    assert.equal(sampleValue(text, 'latentcord_pipeline_ready'), 1);
    assert.equal(sampleValue(text, 'latentcord_pipeline_restarts_total'), 1);
  });

  it('stops listening when the bot stops', async () => {
    assert.deepEqual(await world.stopBot(), { code: 0, signal: null });
    await assert.rejects(httpRequest(url, { path: '/healthz' }), /ECONNREFUSED/);
  });
});

describe('HTTP endpoint disabled (the default)', { skip: !hasProc && 'needs Linux /proc' }, () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld();
  });
  after(async () => {
    await world?.close();
  });

  it('the bot listens on no port and logs no endpoint', () => {
    assert.equal(
      world.bot.logs.some((line) => line.msg === 'http endpoint listening'),
      false,
    );
    assert.deepEqual(listeningPorts(world.bot.process.pid!), []);
  });
});
