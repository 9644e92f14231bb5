// A sample suite for the tests of run-under-load.ts: one passing test, one failing test.
import assert from 'node:assert/strict';
import { it } from 'node:test';

it('passes', () => assert.ok(true));
it('fails', () => assert.equal(1 + 1, 3));
