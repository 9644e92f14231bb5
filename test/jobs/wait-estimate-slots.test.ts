import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WaitEstimator } from '../../src/jobs/wait-estimate.js';

describe('WaitEstimator with several pipelines', () => {
  it('sends each waiting job to the pipeline that frees up first', () => {
    const estimator = new WaitEstimator();
    estimator.observeBatch(100, 1000); // 10 ms per unit of work
    const running = [
      { key: 'a', work: 50 },
      { key: 'b', work: 20 },
    ];
    // Pipelines free in 500 and 200 ms; jobs of 10 units (100 ms) each.
    assert.deepEqual(estimator.waits(running, [10, 10, 10, 10], 0, 2), [200, 300, 400, 500]);
    assert.deepEqual(estimator.waits(running, [10, 10], 150, 2), [50, 150], 'the clocks of running batches go on');
  });

  it('counts idle pipelines as free now, and one pipeline when told zero', () => {
    const estimator = new WaitEstimator();
    estimator.observeBatch(100, 1000);
    assert.deepEqual(estimator.waits([], [10, 10, 10], 0, 3), [0, 0, 0]);
    assert.deepEqual(estimator.waits([{ key: 'a', work: 10 }], [10, 10], 0, 2), [0, 100]);
    assert.deepEqual(estimator.waits([], [10, 10], 0, 0), [0, 100]);
  });

  it('with more running batches than pipelines (a worker left), waits for the soonest ones', () => {
    const estimator = new WaitEstimator();
    estimator.observeBatch(100, 1000);
    const running = [
      { key: 'a', work: 30 },
      { key: 'b', work: 10 },
      { key: 'c', work: 20 },
    ];
    assert.deepEqual(estimator.waits(running, [10, 10], 0, 2), [100, 200]);
  });
});
