import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WaitEstimator, jobWork } from '../../src/jobs/wait-estimate.js';

describe('WaitEstimator', () => {
  it('knows nothing before a batch was measured', () => {
    const estimator = new WaitEstimator();
    assert.deepEqual(estimator.waits({ key: 'a', work: 50 }, [10, 20], 0), [undefined, undefined]);
  });

  it('adds what is left of the running batch to the work of every job ahead', () => {
    const estimator = new WaitEstimator();
    estimator.observeBatch(100, 1000); // 10 ms per unit of work
    assert.deepEqual(estimator.waits({ key: 'a', work: 50 }, [10, 20, 5], 1_000), [500, 600, 800]);
    assert.deepEqual(estimator.waits({ key: 'a', work: 50 }, [10, 20], 1_200), [300, 400], 'the running batch is 200 ms further');
    assert.deepEqual(estimator.waits({ key: 'a', work: 50 }, [10], 9_000), [0], 'an overdue batch counts as about to end');
    assert.deepEqual(estimator.waits({ key: 'b', work: 10 }, [10], 9_100), [100], 'a new batch starts its own clock');
    assert.deepEqual(estimator.waits(undefined, [10, 20], 9_200), [0, 100]);
  });

  it('follows the pace with a moving average and ignores nonsense', () => {
    const estimator = new WaitEstimator(0.3);
    estimator.observeBatch(100, 1000);
    estimator.observeBatch(100, 2000);
    assert.deepEqual(estimator.waits(undefined, [100, 0], 0), [0, 1300]); // 0.7 · 10 + 0.3 · 20 = 13 ms per unit
    estimator.observeBatch(0, 500);
    estimator.observeBatch(100, Number.NaN);
    assert.deepEqual(estimator.waits(undefined, [100, 0], 0), [0, 1300]);
  });

  it('measures work as steps × pixels × images', () => {
    assert.equal(jobWork({ steps: 20, width: 512, height: 768, count: 2 }), 20 * 512 * 768 * 2);
  });
});
