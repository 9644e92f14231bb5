// A sample suite for the tests of run-under-load.ts: two passing tests.
import assert from 'node:assert/strict';
import { it } from 'node:test';

it('adds', () => assert.equal(1 + 1, 2));
it('concatenates', () => assert.equal('a' + 'b', 'ab'));
