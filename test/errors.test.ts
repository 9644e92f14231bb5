import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError, cancelled, describeFailure, isUserError, noVaeEncoder, queueClosed } from '../src/errors.js';

function recorder() {
  const lines: { details: Record<string, unknown>; message: string }[] = [];
  return { lines, error: (details: Record<string, unknown>, message: string) => void lines.push({ details, message }) };
}

describe('describeFailure', () => {
  it('shows a UserError as it is and logs nothing', () => {
    const log = recorder();
    const failure = describeFailure(new UserError('options.steps', 'Expected `steps` …'), log, { logMessage: 'interaction failed' });
    assert.deepEqual(
      [failure.identifier, failure.message, failure.isBug, failure.ref],
      ['options.steps', 'Expected `steps` …', false, undefined],
    );
    assert.deepEqual(log.lines, []);
  });

  it('logs a bug once with a reference id that the message shows, and names it by the caller’s identifier', () => {
    const log = recorder();
    const error = new TypeError('boom');
    const failure = describeFailure(error, log, { logMessage: 'result not delivered', details: { job: 'j1' }, bugIdentifier: 'delivery' });
    assert.equal(failure.identifier, 'delivery');
    assert.equal(failure.isBug, true);
    assert.match(failure.ref!, /^[0-9A-F]{8}$/);
    assert.equal(failure.message, `Something went wrong on my side (ref \`${failure.ref}\`). The owner can look it up in the logs.`);
    assert.deepEqual(log.lines, [{ details: { ref: failure.ref, err: error, job: 'j1' }, message: 'result not delivered' }]);
    assert.equal(describeFailure('thrown text', recorder(), { logMessage: 'x' }).identifier, 'internal');
  });

  it('knows a UserError that crossed a process boundary as plain data', () => {
    const plain = { name: 'UserError', identifier: 'worker.crashed', message: 'crashed' };
    assert.ok(isUserError(plain));
    assert.equal(describeFailure(plain, recorder(), { logMessage: 'x' }).message, 'crashed');
  });
});

describe('error factories', () => {
  it('give the repeated failures one identifier and wording', () => {
    assert.deepEqual([cancelled().identifier, cancelled('waiting').message], ['job.cancelled', 'Cancelled before it started.']);
    assert.equal(queueClosed().identifier, 'queue.closed');
    assert.notEqual(queueClosed('refused').message, queueClosed('dropped').message);
    assert.equal(noVaeEncoder().identifier, 'model.noVaeEncoder');
  });
});
