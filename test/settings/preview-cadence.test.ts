import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { denoisingSteps, previewEveryStepsFor } from '../../src/settings/index.js';

describe('live preview cadence', () => {
  it('counts the steps img2img really runs (diffusers: int(steps × strength))', () => {
    assert.equal(denoisingSteps('imagine', 20, 0.7), 20);
    assert.equal(denoisingSteps('remix', 20, 0.7), 14);
    assert.equal(denoisingSteps('remix', 8, 0.35), 2);
    assert.equal(denoisingSteps('remix', 4, 1), 4);
  });

  it('auto: about every quarter of the run, none for one or two steps; numbers as set', () => {
    const auto = (steps: number) => previewEveryStepsFor('auto', steps);
    assert.deepEqual([1, 2, 3, 4, 6, 8, 20, 30, 50].map(auto), [0, 0, 1, 1, 2, 2, 5, 8, 13]);
    assert.equal(previewEveryStepsFor(0, 50), 0);
    assert.equal(previewEveryStepsFor(3, 50), 3);
  });
});
