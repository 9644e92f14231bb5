import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { startJobRetention, type JobRetention } from '../../src/jobs/job-retention.js';
import { openStore, type Store } from '../../src/store/index.js';
import { makeTempDir, manualClock, newJob, removeTempDir } from '../store/store-fixture.js';

const dayMs = 24 * 60 * 60 * 1000;

/** A logger that keeps what it was told. */
function recorder() {
  const lines: { level: string; details: Record<string, unknown>; message: string }[] = [];
  const log = (level: string) => (details: Record<string, unknown>, message: string) => void lines.push({ level, details, message });
  return { lines, info: log('info'), warn: log('warn') } as const;
}

describe('job retention', () => {
  let dir: string | undefined;
  let store: Store | undefined;
  let retention: JobRetention | undefined;
  afterEach(() => {
    retention?.stop();
    store?.close();
    if (dir) removeTempDir(dir);
    retention = store = dir = undefined;
  });

  /** A store with `old` jobs that finished 40 days ago, one that finished yesterday and one still queued from then. */
  function seeded(old: number) {
    dir = makeTempDir();
    const clock = manualClock(Date.now() - 40 * dayMs);
    const db = openStore(dir, { now: clock.now });
    const oldIds = Array.from({ length: old }, (_, i) => {
      const job = db.createJob(newJob({ seed: String(i) }));
      db.updateJob(job.id, { status: i % 3 === 0 ? 'cancelled' : 'succeeded' });
      return job.id;
    });
    const stillQueued = db.createJob(newJob()).id;
    clock.set(Date.now() - dayMs);
    const recent = db.createJob(newJob());
    db.updateJob(recent.id, { status: 'succeeded' });
    store = db;
    return { oldIds, stillQueued, recent: recent.id };
  }

  it('deletes finished jobs older than the retention, keeps recent and unfinished ones, and logs the count', async () => {
    const { oldIds, stillQueued, recent } = seeded(3);
    const logger = recorder();
    retention = startJobRetention({ store: store!, logger, retentionDays: 30 });
    assert.equal(await retention.runOnce(), 3, 'the run started with the timer');
    assert.deepEqual(
      oldIds.map((id) => store!.getJob(id)),
      [undefined, undefined, undefined],
    );
    assert.equal(store!.getJob(recent)?.status, 'succeeded');
    assert.equal(store!.getJob(stillQueued)?.status, 'queued', 'unfinished jobs are never deleted');
    const line = logger.lines.find((l) => l.message === 'old job records pruned');
    assert.equal(line?.details['removed'], 3);
    assert.equal(await retention.runOnce(), 0, 'nothing left');
  });

  it('bounds the work of one run; the rest goes in later runs', async () => {
    const { oldIds } = seeded(11);
    retention = startJobRetention({ store: store!, logger: recorder(), retentionDays: 30, batchSize: 2, maxBatchesPerRun: 2 });
    assert.equal(await retention.runOnce(), 4);
    assert.equal(await retention.runOnce(), 4);
    assert.equal(await retention.runOnce(), 3);
    assert.equal(oldIds.filter((id) => store!.getJob(id) !== undefined).length, 0);
  });

  it('keeps everything with a retention of 0 days', async () => {
    const { oldIds } = seeded(2);
    retention = startJobRetention({ store: store!, logger: recorder(), retentionDays: 0 });
    assert.equal(await retention.runOnce(), 0);
    assert.equal(oldIds.filter((id) => store!.getJob(id) !== undefined).length, 2);
  });

  it('a failing run is logged and the next run tries again', async () => {
    const { oldIds } = seeded(1);
    const logger = recorder();
    let fail = true;
    const flaky: Pick<Store, 'pruneJobs' | 'countJobsByStatus'> = {
      pruneJobs: (before, limit) => {
        if (fail) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        return store!.pruneJobs(before, limit);
      },
      countJobsByStatus: () => store!.countJobsByStatus(),
    };
    retention = startJobRetention({ store: flaky, logger, retentionDays: 30 });
    assert.equal(await retention.runOnce(), 0);
    assert.ok(logger.lines.some((l) => l.level === 'warn' && l.message === 'could not prune old job records; trying again later'));
    fail = false;
    assert.equal(await retention.runOnce(), 1);
    assert.equal(store!.getJob(oldIds[0]!), undefined);
  });
});
