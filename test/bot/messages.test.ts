import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressText, queuedText } from '../../src/bot/messages.js';
import type { JobRecord } from '../../src/store/index.js';

const record = { prompt: 'a *bold* fox', steps: 20, kind: 'imagine' } as JobRecord;

describe('progressText', () => {
  it('shows the step, a bar and the time so far; no estimate before the pace is known', () => {
    assert.equal(progressText(record, 0, 20, 0), '🎨 **a \\*bold\\* fox** — step 0/20 `░░░░░░░░░░░░` 0.0 s');
    assert.equal(progressText(record, 1, 20, 900), '🎨 **a \\*bold\\* fox** — step 1/20 `█░░░░░░░░░░░` 0.9 s');
  });

  it('estimates the time left from the pace so far, roughly', () => {
    assert.equal(progressText(record, 5, 20, 2_000), '🎨 **a \\*bold\\* fox** — step 5/20 `███░░░░░░░░░` 2.0 s · about 6 s left');
    assert.equal(progressText(record, 2, 20, 20_000), '🎨 **a \\*bold\\* fox** — step 2/20 `█░░░░░░░░░░░` 20.0 s · about 3 min left');
    assert.equal(progressText(record, 19, 20, 19_000), '🎨 **a \\*bold\\* fox** — step 19/20 `███████████░` 19.0 s · about 1 s left');
  });

  it('drops the estimate on the last step', () => {
    assert.equal(progressText(record, 20, 20, 8_000), '🎨 **a \\*bold\\* fox** — step 20/20 `████████████` 8.0 s');
  });
});

describe('queuedText', () => {
  it('shows the position, and the expected wait once the pace is known', () => {
    assert.equal(queuedText(record, 2), '⏳ Imagine **a \\*bold\\* fox**: queued — position **2**');
    assert.equal(queuedText(record, 2, 41_200), '⏳ Imagine **a \\*bold\\* fox**: queued — position **2** · about 42 s');
    assert.equal(queuedText(record, 3, 0), '⏳ Imagine **a \\*bold\\* fox**: queued — position **3** · about 1 s');
    assert.equal(queuedText(record, 0, 5_000), '⏳ Imagine **a \\*bold\\* fox**: starting…');
  });
});
