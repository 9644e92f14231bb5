import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchPreviewPlan } from '../../src/jobs/preview-plan.js';

/** The steps of a 12-step run at which each job of the plan shows a preview. */
function shown(cadences: number[]): number[][] {
  const plan = batchPreviewPlan(cadences);
  return cadences.map((_, job) =>
    Array.from({ length: 11 }, (_, i) => i + 1).filter((step) => step % plan.everySteps === 0 && plan.wants(job, step)),
  );
}

describe('batchPreviewPlan', () => {
  it('draws at the greatest common divisor of the cadences; each job sees its own', () => {
    assert.equal(batchPreviewPlan([4, 6]).everySteps, 2);
    assert.equal(batchPreviewPlan([3, 0, 3]).everySteps, 3);
    assert.deepEqual(shown([4, 6]), [[4, 8], [6]]);
    assert.deepEqual(shown([3, 0]), [[3, 6, 9], []]);
  });

  it('asks for none when no job wants previews', () => {
    assert.equal(batchPreviewPlan([0, 0]).everySteps, 0);
    assert.equal(batchPreviewPlan([]).everySteps, 0);
    assert.equal(batchPreviewPlan([0]).wants(0, 4), false);
  });
});
