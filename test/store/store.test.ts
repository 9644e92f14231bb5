import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { databaseFileName, interruptedErrorIdentifier, migrations, openStore, type Migration, type Store } from '../../src/store/index.js';
import { makeTempDir, manualClock, newJob, recordingLogger, removeTempDir } from './store-fixture.js';

let dir: string;
const opened: Store[] = [];

function open(options: Parameters<typeof openStore>[1] = {}, dataDir = dir): Store {
  const store = openStore(dataDir, { logger: recordingLogger(), ...options });
  opened.push(store);
  return store;
}

beforeEach(() => {
  dir = makeTempDir();
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  removeTempDir(dir);
});

function openError(dataDir: string): { identifier: string; message: string } {
  try {
    open({}, dataDir);
  } catch (error) {
    assert.ok(isUserError(error), `expected a UserError, got ${String(error)}`);
    return { identifier: error.identifier, message: error.message };
  }
  assert.fail('expected openStore to fail');
}

describe('openStore', () => {
  it('creates the data folder and <dataDir>/latentcord.sqlite at the latest schema version', () => {
    const dataDir = join(dir, 'nested', 'data');
    const store = open({}, dataDir);
    assert.equal(store.path, join(dataDir, databaseFileName));
    assert.ok(existsSync(store.path));
    assert.equal(store.schemaVersion, migrations.length);
  });

  it('migrates an existing empty database (user_version 0) and logs it', () => {
    writeFileSync(join(dir, databaseFileName), '');
    const logger = recordingLogger();
    const store = open({ logger });
    assert.equal(store.schemaVersion, migrations.length);
    assert.deepEqual(logger.infos, ['database schema migrated']);
    assert.equal(store.getJob('nothing'), undefined);
  });

  it('upgrades a database of the first schema in place: its jobs keep their data and gain a status message column', () => {
    // What the previous release left behind: schema 1 and a job written by it.
    const old = new Database(join(dir, databaseFileName));
    old.exec(migrations[0]!.sql);
    old.pragma('user_version = 1');
    old
      .prepare(`INSERT INTO jobs (id, kind, status, channel_id, user_id, prompt, negative_prompt, seed, steps, guidance, width, height,
      scheduler, count, strength, created_at)
      VALUES ('old-job', 'imagine', 'succeeded', 'c', 'u', 'p', '', '1', 4, 1, 64, 64, 'lcm', 1, 0.7, 1000)`)
      .run();
    old.close();
    const logger = recordingLogger();
    const store = open({ logger });
    assert.equal(store.schemaVersion, migrations.length);
    assert.deepEqual(logger.infos, ['database schema migrated']);
    assert.equal(store.getJob('old-job')?.prompt, 'p');
    assert.equal(store.getJob('old-job')?.statusMessageId, null);
    assert.equal(store.updateJob('old-job', { statusMessageId: 'm1' })?.statusMessageId, 'm1');
    // It was drawn from the literal text cut at 75 tokens, which is emphasis off with a 75-token limit.
    assert.deepEqual([store.getJob('old-job')?.emphasis, store.getJob('old-job')?.maxPromptTokens], ['off', 75]);
  });

  it('keep how their prompts are read', () => {
    const store = open();
    const job = store.createJob(newJob({ prompt: 'a (red:1.2) fox', emphasis: 'no-norm', maxPromptTokens: 150 }));
    assert.deepEqual([store.getJob(job.id)?.emphasis, store.getJob(job.id)?.maxPromptTokens], ['no-norm', 150]);
    assert.throws(() => store.createJob(newJob({ emphasis: 'strong' as 'off' })), /job emphasis must be one of original, no-norm, off/u);
    assert.throws(() => store.createJob(newJob({ maxPromptTokens: 1.5 })), TypeError);
  });

  it('upgrades a database of the second schema: its jobs read as ordinary ones (no operation) and /history finds them', () => {
    const old = new Database(join(dir, databaseFileName));
    old.exec(migrations[0]!.sql);
    old.exec(migrations[1]!.sql);
    old.pragma('user_version = 2');
    old
      .prepare(`INSERT INTO jobs (id, kind, status, channel_id, user_id, guild_id, prompt, negative_prompt, seed, steps, guidance, width,
      height, scheduler, count, strength, created_at, finished_at)
      VALUES ('old-remix', 'remix', 'succeeded', 'c', 'u', 'g', 'p', '', '1', 4, 1, 64, 64, 'lcm', 1, 0.5, 1000, 2000)`)
      .run();
    old.close();
    const store = open();
    assert.equal(store.schemaVersion, migrations.length);
    assert.equal(store.getJob('old-remix')?.operation, null);
    assert.deepEqual(
      store.jobHistory('u', 'g', 5, 0).jobs.map((job) => job.id),
      ['old-remix'],
    );
  });

  it('re-opens without migrating again and keeps the data', () => {
    const first = open();
    first.setCommandDeploymentHash('global', 'abc');
    first.close();
    const logger = recordingLogger();
    const second = open({ logger });
    assert.equal(second.schemaVersion, migrations.length);
    assert.deepEqual(logger.infos, []);
    assert.equal(second.getCommandDeploymentHash('global'), 'abc');
  });

  it('applies only the new steps of a longer migration list', () => {
    const extra: Migration = { version: migrations.length + 1, description: 'test table', sql: 'CREATE TABLE test_extra (x INTEGER);' };
    open().close();
    // Re-running step 1 would fail (its tables exist), so this also proves applied steps are skipped.
    const store = open({ migrations: [...migrations, extra] });
    assert.equal(store.schemaVersion, migrations.length + 1);
  });

  it('rolls a failing step back and stays at the previous version', () => {
    open().close();
    const broken: Migration = {
      version: migrations.length + 1,
      description: 'broken',
      sql: 'CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;',
    };
    const error = (() => {
      try {
        open({ migrations: [...migrations, broken] });
      } catch (caught) {
        return caught as Error;
      }
      assert.fail('expected the migration to fail');
    })();
    assert.match(error.message, /no such table: no_such_table/u);
    const fixed: Migration = { ...broken, sql: 'CREATE TABLE half_done (x INTEGER);' };
    // Succeeds only if half_done was rolled back with the failed step.
    assert.equal(open({ migrations: [...migrations, fixed] }).schemaVersion, migrations.length + 1);
  });

  it('refuses a migration list that does not count 1, 2, 3', () => {
    assert.throws(() => open({ migrations: [{ version: 2, description: 'x', sql: '' }] }), /versions must count 1, 2, 3/u);
  });

  it('gives a clear error naming the path for a file that is not a database', () => {
    writeFileSync(join(dir, databaseFileName), 'this is not a database, just text that is long enough to look like a header'.repeat(20));
    const { identifier, message } = openError(dir);
    assert.equal(identifier, 'store.open');
    assert.ok(message.startsWith(`Cannot open the database ${join(dir, databaseFileName)}: `), message);
    assert.match(message, /SQLITE_NOTADB/u);
    assert.match(message, /move it away/u);
  });

  it('gives a clear error when the data folder is a file', () => {
    const file = join(dir, 'data');
    writeFileSync(file, 'x');
    assert.deepEqual(openError(file), {
      identifier: 'store.open',
      message: `Cannot create the data folder ${file}: a file is in the way (it must be a folder).`,
    });
    assert.equal(
      openError(join(file, 'sub')).message,
      `Cannot create the data folder ${join(file, 'sub')}: a file is in the way (it must be a folder).`,
    );
  });

  it('gives a clear error when the database path is a folder', () => {
    mkdirSync(join(dir, databaseFileName));
    const { message } = openError(dir);
    assert.ok(message.startsWith(`Cannot open the database ${join(dir, databaseFileName)}: `), message);
    assert.match(message, /SQLITE_CANTOPEN/u);
  });

  it('closes idempotently', () => {
    const store = open();
    store.close();
    store.close();
    assert.throws(() => store.getJob('x'));
  });
});

describe('guild settings', () => {
  it('survive close and re-open', () => {
    const store = open();
    store.setGuildSetting('1', 'steps', 30, 'admin');
    store.setGuildSetting('1', 'bannedWords', ['gore', 'blood bath'], 'admin');
    store.setGuildSetting('1', 'allowedChannels', ['123456789012345678'], 'admin');
    store.setGuildSetting('2', 'guidance', 5.5, 'other');
    store.close();
    const reopened = open();
    assert.deepEqual(reopened.getGuildSettings('1'), {
      allowedChannels: ['123456789012345678'],
      bannedWords: ['gore', 'blood bath'],
      steps: 30,
    });
    assert.deepEqual(reopened.getGuildSettings('2'), { guidance: 5.5 });
    assert.deepEqual(reopened.getGuildSettings('3'), {});
  });

  it('overwrite, record who and when, and reset one key or all', () => {
    const clock = manualClock();
    const store = open({ now: clock.now });
    store.setGuildSetting('1', 'steps', 30, 'alice');
    clock.advance(1000);
    store.setGuildSetting('1', 'steps', 35, 'bob');
    store.setGuildSetting('1', 'cooldownSeconds', 10, 'bob');
    assert.deepEqual(store.getGuildSettingEntries('1'), [
      { key: 'cooldownSeconds', value: 10, updatedBy: 'bob', updatedAt: clock.now() },
      { key: 'steps', value: 35, updatedBy: 'bob', updatedAt: clock.now() },
    ]);
    assert.equal(store.resetGuildSettings('1', 'steps'), 1);
    assert.equal(store.resetGuildSettings('1', 'steps'), 0);
    assert.deepEqual(store.getGuildSettings('1'), { cooldownSeconds: 10 });
    store.setGuildSetting('1', 'steps', 30, 'alice');
    assert.equal(store.resetGuildSettings('1'), 2);
    assert.deepEqual(store.getGuildSettings('1'), {});
  });

  it('refuse invalid values and configuration-only keys as programming errors', () => {
    const store = open();
    assert.throws(() => store.setGuildSetting('1', 'steps', 500, 'a'), TypeError);
    assert.throws(() => store.setGuildSetting('1', 'allowDMs', true, 'a'), TypeError);
    assert.throws(() => store.setGuildSetting('1', 'nope' as 'steps', 1, 'a'), TypeError);
  });

  it('ignore rows a newer version wrote (unknown key, bad value) with one warning each, after a downgrade', () => {
    const newer: Migration = {
      version: migrations.length + 1,
      description: 'a future version with a new setting',
      sql: `ALTER TABLE jobs ADD COLUMN model TEXT;
            INSERT INTO guild_settings VALUES ('1', 'hiresFix', 'true', 'admin', 0);
            INSERT INTO guild_settings VALUES ('1', 'scheduler', '"heun"', 'admin', 0);
            INSERT INTO guild_settings VALUES ('1', 'maxCount', 'not json', 'admin', 0);
            INSERT INTO guild_settings VALUES ('1', 'steps', '12', 'admin', 0);`,
    };
    open({ migrations: [...migrations, newer] }).close();

    const logger = recordingLogger();
    const store = open({ logger });
    assert.equal(store.schemaVersion, migrations.length + 1);
    assert.deepEqual(store.getGuildSettings('1'), { steps: 12 });
    assert.deepEqual(store.getGuildSettings('1'), { steps: 12 });
    assert.deepEqual(
      logger.warnings.map((warning) => [warning.message, warning.details.key ?? warning.details.schemaVersion]),
      [
        ['database schema is newer than this version knows; continuing without migrating', migrations.length + 1],
        ['ignoring stored guild setting: unknown setting `hiresFix` (written by another version?)', 'hiresFix'],
        ['ignoring stored guild setting: value of `maxCount` is not JSON', 'maxCount'],
        [
          'ignoring stored guild setting: value of `scheduler` is not one of `euler`, `euler-a`, `ddim`, `dpmpp-2m`, ' +
            '`dpmpp-2m-karras`, `lcm`, `pndm`, `lms`, `unipc`, `ddpm`',
          'scheduler',
        ],
      ],
    );
    // The older code still works on the newer schema (the added column has no constraint).
    const job = store.createJob(newJob());
    assert.equal(store.getJob(job.id)?.prompt, 'a running dog');
  });
});

describe('jobs', () => {
  it('go through their life cycle with timestamps', () => {
    const clock = manualClock(1_000);
    const store = open({ now: clock.now });
    const job = store.createJob(newJob({ id: 'job-1', seed: '18446744073709551615' }));
    assert.equal(job.status, 'queued');
    assert.equal(job.createdAt, 1_000);
    assert.equal(job.startedAt, null);
    assert.equal(job.seed, '18446744073709551615');

    clock.set(2_000);
    const running = store.updateJob('job-1', { status: 'running', stageDurations: { textEncoder: 90 } });
    assert.equal(running?.startedAt, 2_000);
    assert.equal(running?.finishedAt, null);

    clock.set(9_000);
    const done = store.updateJob('job-1', {
      status: 'succeeded',
      stageDurations: { denoise: 5_000, vaeDecode: 400 },
      attachmentUrls: ['https://cdn.discordapp.com/attachments/1/2/a.png'],
      resultMessageId: '444444444444444444',
      resultChannelId: '222222222222222222',
    });
    assert.deepEqual(done, {
      ...job,
      status: 'succeeded',
      startedAt: 2_000,
      finishedAt: 9_000,
      stageDurations: { textEncoder: 90, denoise: 5_000, vaeDecode: 400 },
      attachmentUrls: ['https://cdn.discordapp.com/attachments/1/2/a.png'],
      resultMessageId: '444444444444444444',
      resultChannelId: '222222222222222222',
    });
    assert.deepEqual(store.getJob('job-1'), done);
    assert.deepEqual(store.findJobByResultMessage('444444444444444444'), done);
    assert.equal(store.findJobByResultMessage('555'), undefined);
  });

  it('record failures with an error identifier, and report a missing job as undefined', () => {
    const store = open();
    const job = store.createJob(newJob());
    const failed = store.updateJob(job.id, { status: 'failed', errorIdentifier: 'image.tooLarge' });
    assert.equal(failed?.errorIdentifier, 'image.tooLarge');
    assert.notEqual(failed?.finishedAt, null);
    assert.equal(store.updateJob('missing', { status: 'running' }), undefined);
    assert.throws(() => store.updateJob(job.id, { status: 'exploded' as 'failed' }), TypeError);
    assert.equal(store.getJob(job.id)?.status, 'failed');
  });

  it('keep remix parameters and the parent of rerolls', () => {
    const store = open();
    const parent = store.createJob(newJob());
    const remix = store.createJob(
      newJob({ kind: 'remix', parentJobId: parent.id, strength: 0.35, sourceImageUrl: 'https://cdn.discordapp.com/x.png', guildId: null }),
    );
    assert.deepEqual(
      [remix.kind, remix.parentJobId, remix.strength, remix.sourceImageUrl, remix.guildId],
      ['remix', parent.id, 0.35, 'https://cdn.discordapp.com/x.png', null],
    );
    assert.throws(() => store.createJob(newJob({ parentJobId: 'no-such-job' })), /FOREIGN KEY/u);
  });

  it('remember the result button a remix came from (Vary, Upscale)', () => {
    const store = open();
    const parent = store.createJob(newJob());
    assert.equal(parent.operation, null);
    for (const operation of ['vary-subtle', 'vary-strong', 'upscale-hires'] as const) {
      const job = store.createJob(newJob({ kind: 'remix', parentJobId: parent.id, operation }));
      assert.equal(store.getJob(job.id)?.operation, operation);
    }
    assert.throws(() => store.createJob(newJob({ kind: 'remix', operation: 'zoom-out' as 'vary-subtle' })), /unknown job operation/u);
    assert.throws(() => store.createJob(newJob({ kind: 'imagine', operation: 'vary-strong' })), /is a remix, not imagine/u);
  });

  it("page through one person's delivered pictures in one place, newest first, and clear them", () => {
    const clock = manualClock(1_000);
    const store = open({ now: clock.now });
    const made = (changes: Parameters<typeof newJob>[0], status: 'succeeded' | 'failed' | 'running' = 'succeeded') => {
      clock.advance(1_000);
      const job = store.createJob(newJob(changes));
      if (status !== 'running') store.updateJob(job.id, { status });
      else store.updateJob(job.id, { status: 'running' });
      return job.id;
    };
    const alice = Array.from({ length: 7 }, (_, i) => made({ guildId: 'g', userId: 'alice', prompt: `picture ${i}` }));
    const failed = made({ guildId: 'g', userId: 'alice' }, 'failed');
    const running = made({ guildId: 'g', userId: 'alice' }, 'running');
    const elsewhere = made({ guildId: 'h', userId: 'alice' });
    const inDms = made({ guildId: null, userId: 'alice' });
    const bob = made({ guildId: 'g', userId: 'bob' });

    const first = store.jobHistory('alice', 'g', 5, 0);
    assert.equal(first.total, 7, 'delivered pictures only');
    assert.deepEqual(
      first.jobs.map((job) => job.id),
      alice.slice(2).reverse(),
    );
    assert.deepEqual(
      store.jobHistory('alice', 'g', 5, 5).jobs.map((job) => job.id),
      alice.slice(0, 2).reverse(),
    );
    assert.deepEqual(
      store.jobHistory('alice', null, 5, 0).jobs.map((job) => job.id),
      [inDms],
    );
    assert.equal(store.jobHistory('carol', 'g', 5, 0).total, 0);

    assert.equal(store.clearJobHistory('alice', 'g'), 8, 'finished jobs of alice in g, failed ones included');
    assert.equal(store.jobHistory('alice', 'g', 5, 0).total, 0);
    assert.equal(store.getJob(failed), undefined);
    assert.equal(store.getJob(running)?.status, 'running', 'a running job stays');
    for (const kept of [elsewhere, inDms, bob]) assert.notEqual(store.getJob(kept), undefined);
  });

  it('refuse malformed records', () => {
    const store = open();
    assert.throws(() => store.createJob(newJob({ seed: '-1' })), TypeError);
    assert.throws(() => store.createJob(newJob({ seed: '18446744073709551616' })), TypeError);
    assert.throws(() => store.createJob(newJob({ seed: '007' })), TypeError);
    assert.throws(() => store.createJob(newJob({ steps: 2.5 })), TypeError);
    assert.throws(() => store.createJob(newJob({ id: 'x'.repeat(65) })), TypeError);
    assert.throws(() => store.createJob(newJob({ kind: 'upscale' as 'imagine' })), TypeError);
    store.createJob(newJob({ id: 'same' }));
    assert.throws(() => store.createJob(newJob({ id: 'same' })), /UNIQUE/u);
  });

  it('tell when a user last submitted a job, per server and in direct messages', () => {
    const clock = manualClock(5_000);
    const store = open({ now: clock.now });
    assert.equal(store.lastJobStartedAt('g', 'u'), undefined);
    store.createJob(newJob({ guildId: 'g', userId: 'u' }));
    clock.set(6_000);
    store.createJob(newJob({ guildId: 'g', userId: 'u' }));
    store.createJob(newJob({ guildId: null, userId: 'u', createdAt: 7_000 }));
    store.createJob(newJob({ guildId: 'g', userId: 'other', createdAt: 8_000 }));
    assert.equal(store.lastJobStartedAt('g', 'u'), 6_000);
    assert.equal(store.lastJobStartedAt(null, 'u'), 7_000);
    assert.equal(store.lastJobStartedAt('h', 'u'), undefined);
  });

  it('are counted by status and old finished ones pruned', () => {
    const clock = manualClock(1_000);
    const store = open({ now: clock.now });
    const old = store.createJob(newJob());
    store.updateJob(old.id, { status: 'succeeded' });
    const reroll = store.createJob(newJob({ parentJobId: old.id }));
    clock.set(5_000);
    store.updateJob(reroll.id, { status: 'cancelled' });
    const waiting = store.createJob(newJob({ createdAt: 0 }));
    store.createJob(newJob({ status: 'running' }));
    assert.deepEqual(store.countJobsByStatus(), { queued: 1, running: 1, succeeded: 1, failed: 0, cancelled: 1, interrupted: 0 });

    assert.equal(store.pruneJobs(2_000), 1);
    assert.equal(store.getJob(old.id), undefined);
    assert.equal(store.getJob(reroll.id)?.parentJobId, null);
    assert.equal(store.getJob(waiting.id)?.status, 'queued', 'unfinished jobs are never pruned');
    assert.deepEqual(store.countJobsByStatus(), { queued: 1, running: 1, succeeded: 0, failed: 0, cancelled: 1, interrupted: 0 });
  });

  it('are pruned oldest first and at most `limit` at a time', () => {
    const clock = manualClock(1_000);
    const store = open({ now: clock.now });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const job = store.createJob(newJob());
      clock.advance(1_000);
      store.updateJob(job.id, { status: i % 2 === 0 ? 'succeeded' : 'failed' });
      ids.push(job.id);
    }
    assert.equal(store.pruneJobs(10_000, 2), 2);
    assert.deepEqual(
      ids.map((id) => store.getJob(id) !== undefined),
      [false, false, true, true, true],
      'the two that ended first went',
    );
    assert.equal(store.pruneJobs(10_000, 2), 2);
    assert.equal(store.pruneJobs(10_000, 2), 1);
    assert.equal(store.pruneJobs(10_000, 2), 0);
  });

  it('left queued or running by a crashed process are marked interrupted at the next start', () => {
    const storeModule = new URL('../../src/store/index.js', import.meta.url).href;
    const script = `
      import { openStore } from ${JSON.stringify(storeModule)};
      const store = openStore(process.argv[1], { now: () => 1000 });
      const job = (id, status) => store.createJob({ id, status, kind: 'imagine', guildId: 'g', channelId: 'c', userId: 'u',
        prompt: 'p', negativePrompt: '', seed: '1', steps: 4, guidance: 1, width: 64, height: 64, scheduler: 'lcm',
        count: 1, strength: 0.7, emphasis: 'original', maxPromptTokens: 225, sourceImageUrl: null });
      job('finished');
      store.updateJob('finished', { status: 'succeeded' });
      job('waiting', 'queued');
      job('working', 'running');
      store.updateJob('working', { stageDurations: { textEncoder: 5 }, statusMessageId: 'm-working' });
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.ok(existsSync(join(dir, `${databaseFileName}-wal`)), 'the crash left the write-ahead log behind');

    const clock = manualClock(50_000);
    const store = open({ now: clock.now });
    const interrupted = store.markUnfinishedJobsInterrupted();
    assert.deepEqual(
      interrupted.map((job) => [job.id, job.status, job.errorIdentifier, job.finishedAt, job.startedAt]),
      [
        ['waiting', 'interrupted', interruptedErrorIdentifier, 50_000, null],
        ['working', 'interrupted', interruptedErrorIdentifier, 50_000, 1_000],
      ],
    );
    assert.deepEqual(store.getJob('working')?.stageDurations, { textEncoder: 5 });
    assert.deepEqual(
      interrupted.map((job) => job.statusMessageId),
      [null, 'm-working'],
      'the restart finds the status messages to mark',
    );
    assert.equal(store.getJob('finished')?.status, 'succeeded');
    assert.deepEqual(store.markUnfinishedJobsInterrupted(), []);
  });
});

describe('command deployments', () => {
  it('remember the last hash per scope across re-opens', () => {
    const store = open();
    assert.equal(store.getCommandDeploymentHash('global'), undefined);
    store.setCommandDeploymentHash('global', 'hash-1');
    store.setCommandDeploymentHash('111111111111111111', 'hash-g');
    store.setCommandDeploymentHash('global', 'hash-2');
    store.close();
    const reopened = open();
    assert.equal(reopened.getCommandDeploymentHash('global'), 'hash-2');
    assert.equal(reopened.getCommandDeploymentHash('111111111111111111'), 'hash-g');
    assert.throws(() => reopened.setCommandDeploymentHash('global', ''), TypeError);
  });
});
