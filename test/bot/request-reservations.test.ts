import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { downloadsBusy, RequestReservations, WorkSlots } from '../../src/bot/request-reservations.js';

describe('RequestReservations', () => {
  it('counts the places a user holds in every server, and the latest per server', () => {
    const book = new RequestReservations();
    const a = book.reserve('g1', 'u1', 1000);
    const b = book.reserve('g1', 'u1', 3000);
    const c = book.reserve(null, 'u1', 5000);
    book.reserve('g1', 'u2', 9000);
    assert.equal(book.heldBy('u1'), 3);
    assert.equal(book.heldBy('u2'), 1);
    assert.equal(book.heldBy('u3'), 0);
    assert.equal(book.latestIn('g1', 'u1'), 3000);
    assert.equal(book.latestIn(null, 'u1'), 5000, 'direct messages are their own place');
    assert.equal(book.latestIn('g2', 'u1'), undefined);
    b.release();
    assert.equal(book.latestIn('g1', 'u1'), 1000);
    b.release();
    assert.equal(book.heldBy('u1'), 2, 'releasing twice gives back one place');
    a.release();
    c.release();
    assert.equal(book.heldBy('u1'), 0);
    assert.equal(book.latestIn('g1', 'u1'), undefined);
  });
});

describe('WorkSlots', () => {
  it('hands out at most `capacity` slots and refuses beyond, each given back once', () => {
    const slots = new WorkSlots(2);
    const first = slots.take(downloadsBusy);
    const second = slots.take(downloadsBusy);
    assert.equal(slots.inUse, 2);
    assert.throws(
      () => slots.take(downloadsBusy),
      (error: unknown) => isUserError(error) && error.identifier === 'attachment.busy',
    );
    first();
    first();
    assert.equal(slots.inUse, 1, 'a slot is given back once however often it is released');
    slots.take(downloadsBusy);
    assert.equal(slots.inUse, 2);
    second();
    assert.equal(slots.inUse, 1);
  });

  it('needs a positive whole capacity', () => {
    assert.throws(() => new WorkSlots(0), RangeError);
    assert.throws(() => new WorkSlots(1.5), RangeError);
  });
});
