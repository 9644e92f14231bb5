import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { GenerationQueue, type QueuedJob } from '../../src/queue/generation-queue.js';

function job(id: string, userId = 'u1', batchKey: string | undefined = undefined, images = 1): QueuedJob<string> {
  return { id, userId, batchKey, images, payload: id, abort: new AbortController(), enqueuedAt: Date.now() };
}

/** A run function whose batches finish only when the test says so. */
function controlledRunner() {
  const batches: string[][] = [];
  const releases: (() => void)[] = [];
  const run = (batch: readonly QueuedJob<string>[]) => {
    batches.push(batch.map((j) => j.id));
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  const releaseNext = async () => {
    while (releases.length === 0) await new Promise((r) => setImmediate(r));
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, run, releaseNext };
}

describe('GenerationQueue', () => {
  it('runs one batch at a time in order and reports positions', async () => {
    const runner = controlledRunner();
    const queue = new GenerationQueue({ maxLength: 10, maxBatchImages: 1, run: runner.run });
    assert.equal(queue.add(job('a')), 0, 'the first job starts at once');
    assert.equal(queue.add(job('b', 'u2')), 1);
    assert.equal(queue.add(job('c', 'u1')), 2);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(runner.batches, [['a']]);
    assert.equal(queue.positionOf('a'), 0);
    assert.equal(queue.positionOf('b'), 1);
    assert.equal(queue.positionOf('c'), 2);
    assert.equal(queue.activeJobsOf('u1'), 2);
    assert.equal(queue.activeJobsOf('u2'), 1);
    await runner.releaseNext();
    assert.deepEqual(runner.batches, [['a'], ['b']]);
    assert.equal(queue.positionOf('a'), undefined);
    await runner.releaseNext();
    await runner.releaseNext();
    await queue.onIdle();
    assert.deepEqual(runner.batches, [['a'], ['b'], ['c']]);
  });

  it('refuses jobs beyond maxLength with a UserError and queues nothing', async () => {
    const runner = controlledRunner();
    const queue = new GenerationQueue({ maxLength: 1, maxBatchImages: 1, run: runner.run });
    queue.add(job('running'));
    await new Promise((r) => setImmediate(r));
    queue.checkRoom();
    queue.add(job('waiting'));
    const full = (e: unknown) =>
      isUserError(e) && e.identifier === 'queue.full' && e.message.startsWith('The queue is full (1 job waiting)');
    assert.throws(() => queue.checkRoom(), full, 'checkRoom says what add would');
    assert.throws(() => queue.add(job('refused')), full);
    assert.equal(queue.positionOf('refused'), undefined);
    await runner.releaseNext();
    await runner.releaseNext();
    await queue.onIdle();
    assert.deepEqual(runner.batches, [['running'], ['waiting']]);
  });

  it('cancels waiting jobs before they start and aborts running ones', async () => {
    const runner = controlledRunner();
    const queue = new GenerationQueue({ maxLength: 10, maxBatchImages: 1, run: runner.run });
    const running = job('a');
    queue.add(running);
    queue.add(job('b'));
    queue.add(job('c'));
    await new Promise((r) => setImmediate(r));
    assert.equal(queue.cancel('b'), 'removed');
    assert.equal(queue.positionOf('c'), 1);
    assert.equal(queue.cancel('a'), 'aborted');
    assert.equal(running.abort.signal.aborted, true);
    assert.equal(queue.cancel('zzz'), 'notFound');
    await runner.releaseNext();
    await runner.releaseNext();
    await queue.onIdle();
    assert.deepEqual(runner.batches, [['a'], ['c']]);
  });

  it('takes compatible waiting jobs into one batch within the image budget, keeping the others in order', async () => {
    const runner = controlledRunner();
    const queue = new GenerationQueue({ maxLength: 10, maxBatchImages: 4, run: runner.run });
    queue.add(job('first', 'u1', 'k1'));
    queue.add(job('x1', 'u2', 'k1', 2));
    queue.add(job('y', 'u3', 'k2'));
    queue.add(job('x2', 'u4', 'k1', 2));
    queue.add(job('x3', 'u5', 'k1', 1));
    queue.add(job('solo', 'u6', undefined));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(runner.batches, [['first']]);
    await runner.releaseNext();
    // x1 heads the queue: x1 (2) + x2 (2) fill the budget of 4; x3 would exceed it.
    assert.deepEqual(runner.batches[1], ['x1', 'x2']);
    assert.equal(queue.positionOf('y'), 1);
    assert.equal(queue.positionOf('x3'), 2);
    for (let i = 0; i < 4; i++) await runner.releaseNext();
    await queue.onIdle();
    assert.deepEqual(runner.batches, [['first'], ['x1', 'x2'], ['y'], ['x3'], ['solo']]);
  });

  it('keeps serving after a batch fails', async () => {
    const seen: string[] = [];
    const queue = new GenerationQueue<string>({
      maxLength: 10,
      maxBatchImages: 1,
      run: async (batch) => {
        seen.push(batch[0]!.id);
        if (batch[0]!.id === 'bad') throw new Error('boom');
      },
    });
    const ends: unknown[] = [];
    queue.on('batchEnd', (_batch, error) => ends.push(error));
    queue.add(job('bad'));
    queue.add(job('good'));
    await queue.onIdle();
    assert.deepEqual(seen, ['bad', 'good']);
    assert.equal((ends[0] as Error).message, 'boom');
    assert.equal(ends[1], undefined);
  });

  it('close() stops accepting jobs and hands back the waiting ones', async () => {
    const runner = controlledRunner();
    const queue = new GenerationQueue({ maxLength: 10, maxBatchImages: 1, run: runner.run });
    queue.add(job('a'));
    queue.add(job('b'));
    await new Promise((r) => setImmediate(r));
    const dropped = queue.close();
    assert.deepEqual(
      dropped.map((j) => j.id),
      ['b'],
    );
    assert.throws(
      () => queue.add(job('c')),
      (e: unknown) => isUserError(e) && e.identifier === 'queue.closed',
    );
    await runner.releaseNext();
    await queue.onIdle();
    assert.deepEqual(runner.batches, [['a']]);
  });
});
