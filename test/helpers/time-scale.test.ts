import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ciTimeScale, readTimeScale, waitFor } from './time-scale.js';

describe('the e2e time scale', () => {
  it('is 1 on a developer machine and raised under CI', () => {
    assert.equal(readTimeScale({}), 1);
    assert.equal(readTimeScale({ CI: '' }), 1);
    assert.equal(readTimeScale({ CI: 'false' }), 1);
    assert.equal(readTimeScale({ CI: '0' }), 1);
    assert.equal(readTimeScale({ CI: 'true' }), ciTimeScale);
    assert.equal(readTimeScale({ CI: '1' }), ciTimeScale);
    assert.ok(ciTimeScale > 1);
  });

  it('LATENTCORD_TEST_TIME_SCALE sets it, also under CI', () => {
    assert.equal(readTimeScale({ LATENTCORD_TEST_TIME_SCALE: '2.5' }), 2.5);
    assert.equal(readTimeScale({ LATENTCORD_TEST_TIME_SCALE: '0.5', CI: 'true' }), 0.5);
    assert.equal(readTimeScale({ LATENTCORD_TEST_TIME_SCALE: ' ', CI: 'true' }), ciTimeScale, 'blank counts as unset');
  });

  it('refuses a value that is not a positive number, naming it', () => {
    for (const bad of ['0', '-2', 'fast', 'Infinity', '2x']) {
      assert.throws(() => readTimeScale({ LATENTCORD_TEST_TIME_SCALE: bad }), new RegExp(`positive number.*${JSON.stringify(bad)}`));
    }
  });
});

describe('waitFor (polling for state that announces nothing)', () => {
  it('resolves with the first value the check returns, ignoring undefined, null and false', async () => {
    const answers: unknown[] = [undefined, null, false, 0, 'late'];
    assert.equal(await waitFor(() => answers.shift() as number | undefined, 'a value', { intervalMs: 1 }), 0, '0 is a value');
  });

  it('rejects naming what it waited for once the budget is spent', async () => {
    await assert.rejects(
      waitFor(() => undefined, 'the moon is blue', { timeoutMs: 30, intervalMs: 5 }),
      /timed out after \d+ ms waiting until the moon is blue/,
    );
  });
});
