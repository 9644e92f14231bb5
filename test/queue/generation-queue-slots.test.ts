import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GenerationQueue, type QueuedJob } from '../../src/queue/generation-queue.js';

function job(id: string, userId = 'u1'): QueuedJob<string> {
  return { id, userId, batchKey: undefined, images: 1, payload: id, abort: new AbortController(), enqueuedAt: Date.now() };
}

/** Batches that finish only when the test releases them (by the id of their first job). */
function controlledRunner() {
  const started: string[] = [];
  const releases = new Map<string, () => void>();
  const run = (batch: readonly QueuedJob<string>[]) => {
    started.push(batch[0]!.id);
    return new Promise<void>((resolve) => releases.set(batch[0]!.id, resolve));
  };
  const release = async (id: string) => {
    while (!releases.has(id)) await new Promise((r) => setImmediate(r));
    releases.get(id)!();
    releases.delete(id);
    await new Promise((r) => setImmediate(r));
  };
  return { started, run, release };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('GenerationQueue with several pipelines', () => {
  it('runs as many batches at once as it has slots, in queue order, and positions count only the waiting', async () => {
    const runner = controlledRunner();
    const queue = new GenerationQueue({ maxLength: 10, maxBatchImages: 1, run: runner.run, concurrency: 2 });
    assert.equal(queue.add(job('a')), 0);
    assert.equal(queue.add(job('b', 'u2')), 0, 'the second pipeline takes the second job at once');
    assert.equal(queue.add(job('c')), 1);
    await settle();
    assert.deepEqual(runner.started, ['a', 'b']);
    assert.deepEqual(
      queue.runningBatches.map((batch) => batch.map((j) => j.id)),
      [['a'], ['b']],
    );
    await runner.release('b');
    assert.deepEqual(runner.started, ['a', 'b', 'c'], 'the freed pipeline takes the next job while the other is busy');
    await runner.release('a');
    await runner.release('c');
    await queue.onIdle();
    assert.deepEqual(queue.runningBatches, []);
  });

  it('starts waiting jobs at once when slots are added and never runs more than the slots after they shrink', async () => {
    const runner = controlledRunner();
    const queue = new GenerationQueue({ maxLength: 10, maxBatchImages: 1, run: runner.run });
    assert.equal(queue.concurrency, 1);
    for (const id of ['a', 'b', 'c', 'd']) queue.add(job(id));
    await settle();
    assert.deepEqual(runner.started, ['a']);
    queue.setConcurrency(3);
    await settle();
    assert.deepEqual(runner.started, ['a', 'b', 'c']);
    queue.setConcurrency(0);
    assert.equal(queue.concurrency, 1, 'never below one slot');
    await runner.release('a');
    await runner.release('b');
    assert.deepEqual(runner.started, ['a', 'b', 'c'], 'c still runs, so d waits for a slot');
    await runner.release('c');
    assert.deepEqual(runner.started, ['a', 'b', 'c', 'd']);
    await runner.release('d');
    await queue.onIdle();
  });
});
