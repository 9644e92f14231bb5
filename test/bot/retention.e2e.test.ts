import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.js';
import { startBotWorld, type BotWorld } from './bot-world.js';

const dayMs = 24 * 60 * 60 * 1000;

/**
 * Job records hold prompts: the bot keeps them `jobs.retentionDays` and deletes older finished ones (refused
 * jobs too) on its own, starting at start-up.
 */
describe('job record retention end to end (real bot process)', () => {
  let world: BotWorld;

  before(async () => {
    world = await startBotWorld({ config: { jobs: { retentionDays: 30 } } });
  });
  after(async () => {
    await world?.close();
  });

  it('deletes finished job records older than the retention and keeps the rest', async () => {
    const { channel, alice } = world;
    await world.stopBot();
    // Records as an earlier run of the bot left them: one delivered and one refused 40 days ago, one from yesterday.
    let now = Date.now() - 40 * dayMs;
    const store = openStore(join(world.dataDir, 'data'), { now: () => now });
    const place = { guildId: world.guild.id, channelId: channel.id, userId: alice.id };
    const parameters = {
      kind: 'imagine',
      negativePrompt: '',
      seed: '1',
      steps: 4,
      guidance: 7.5,
      width: 64,
      height: 64,
      scheduler: 'euler',
      count: 1,
      strength: 0.7,
      emphasis: 'original',
      maxPromptTokens: 225,
      sourceImageUrl: null,
    } as const;
    const delivered = store.createJob({ ...place, ...parameters, prompt: 'an old secret prompt' });
    store.updateJob(delivered.id, { status: 'succeeded' });
    const refused = store.createJob({ ...place, ...parameters, prompt: 'an old refused prompt' });
    store.updateJob(refused.id, { status: 'cancelled', errorIdentifier: 'queue.full' });
    now = Date.now() - dayMs;
    const recent = store.createJob({ ...place, ...parameters, prompt: 'yesterday' });
    store.updateJob(recent.id, { status: 'succeeded' });
    store.close();

    const bot = await world.restartBot();
    const line = await bot.waitForLog((l) => l.msg === 'old job records pruned', 30_000);
    assert.equal(line['removed'], 2);
    assert.equal(JSON.stringify(line).includes('secret'), false, 'the log line names no prompt');
    const after = openStore(join(world.dataDir, 'data'));
    try {
      assert.equal(after.getJob(delivered.id), undefined);
      assert.equal(after.getJob(refused.id), undefined);
      assert.equal(after.getJob(recent.id)?.prompt, 'yesterday');
    } finally {
      after.close();
    }
  });
});
