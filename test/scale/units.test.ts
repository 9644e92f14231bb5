import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UserError, isUserError } from '../../src/errors.js';
import {
  errorFromReason,
  failureReason,
  modelIdentity,
  parseRemoteBatch,
  pngFieldsOf,
  redactRedisUrl,
  redisOptionsFrom,
  redisPassword,
  wireVersion,
} from '../../src/scale/index.js';
import { tinyModelDir } from '../helpers/fixtures.js';

describe('model identity (routing key of remote workers)', () => {
  it('is the folder name and a hash of its model files; copies elsewhere get the same one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'latentcord-identity-'));
    try {
      const copy = join(root, 'tiny-sd');
      cpSync(tinyModelDir, copy, { recursive: true });
      writeFileSync(join(copy, '.latentcord-download.json'), '{"local": "notes"}');
      writeFileSync(join(copy, 'README.md'), 'not a model file');
      const [original, copied] = await Promise.all([modelIdentity(tinyModelDir), modelIdentity(copy)]);
      assert.equal(copied.key, original.key, 'hidden files and files the pipeline does not read do not count');
      assert.match(original.key, /^tiny-sd@[0-9a-f]{12}$/u);
      assert.match(original.queueName, /^model-tiny-sd-[0-9a-f]{12}$/u);
      assert.ok(!original.queueName.includes(':'), 'BullMQ queue names cannot hold a colon');
      assert.ok(original.files >= 8 && original.bytes > 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('changes with a different weight byte, even inside a large file, and with the folder name', async () => {
    const root = mkdtempSync(join(tmpdir(), 'latentcord-identity-'));
    try {
      const copy = join(root, 'tiny-sd');
      cpSync(tinyModelDir, copy, { recursive: true });
      const base = await modelIdentity(copy);
      // A 3 MiB weights file, hashed by samples: change a byte where the first sample reads.
      const weights = join(copy, 'unet', 'model.onnx_data');
      writeFileSync(weights, Buffer.alloc(3 << 20, 1));
      const withWeights = await modelIdentity(copy);
      assert.notEqual(withWeights.hash, base.hash);
      const fd = openSync(weights, 'r+');
      writeSync(fd, Buffer.from([2]), 0, 1, 10);
      closeSync(fd);
      assert.equal(statSync(weights).size, 3 << 20);
      assert.notEqual((await modelIdentity(copy)).hash, withWeights.hash, 'same size, different weights');
      const renamed = join(root, 'other-name');
      cpSync(copy, renamed, { recursive: true });
      const other = await modelIdentity(renamed);
      assert.equal(other.hash, (await modelIdentity(copy)).hash);
      assert.notEqual(other.key, (await modelIdentity(copy)).key);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('Redis URLs', () => {
  it('reads host, port, user, password and database, TLS for rediss:// and sockets for unix://', () => {
    const plain = redisOptionsFrom('redis://app:p%40ss@redis.internal:6380/3');
    assert.deepEqual(
      [plain.host, plain.port, plain.username, plain.password, plain.db, plain.tls],
      ['redis.internal', 6380, 'app', 'p@ss', 3, undefined],
    );
    const tls = redisOptionsFrom('rediss://:secret@redis.example.com');
    assert.deepEqual([tls.port, tls.password, tls.db], [6379, 'secret', 0]);
    assert.deepEqual(tls.tls, { servername: 'redis.example.com' });
    const socket = redisOptionsFrom('unix:///run/redis/redis.sock?db=2&password=x');
    assert.deepEqual([socket.path, socket.db, socket.password], ['/run/redis/redis.sock', 2, 'x']);
  });

  it('never shows the password', () => {
    assert.equal(redactRedisUrl('redis://:secret@host:6379/0'), 'redis://:***@host:6379/0');
    assert.equal(redactRedisUrl('unix:///tmp/r.sock?password=secret'), 'unix:///tmp/r.sock?password=***');
    assert.equal(redisPassword('redis://u:secret@host'), 'secret');
    assert.equal(redisPassword(null), undefined);
  });
});

describe('the wire format between bot and workers', () => {
  const batch = {
    v: wireVersion,
    model: 'tiny-sd@0123456789ab',
    jobIds: ['a'],
    jobs: [{ prompt: 'p', guidanceScale: 7.5, seed: '18446744073709551615', numImages: 1 }],
    parameters: { width: 64, height: 64, numInferenceSteps: 2, scheduler: 'euler', rng: 'cpu' },
    submittedAt: 0,
  };

  it('accepts a well-formed batch and refuses others with the reason', () => {
    assert.equal(parseRemoteBatch(batch), batch);
    for (const [bad, reason] of [
      [{ ...batch, v: 99 }, /format version 99/],
      [{ ...batch, jobIds: [] }, /no jobs/],
      [{ ...batch, parameters: { ...batch.parameters, scheduler: 'nope' } }, /bad parameters/],
      [{ ...batch, jobs: [{ ...batch.jobs[0], seed: '-1' }] }, /a bad job/],
      [{ ...batch, jobs: [{ ...batch.jobs[0], emphasis: 'loud' }] }, /unknown emphasis/],
    ] as const) {
      assert.throws(
        () => parseRemoteBatch(bad),
        (error: unknown) => isUserError(error) && error.identifier === 'queue.badJob' && reason.test(error.message),
      );
    }
  });

  it('carries UserErrors through a failed reason and turns a twice-stalled job into worker.lost', () => {
    const back = errorFromReason(failureReason(new UserError('options.width', 'Width must be a multiple of 16.')), 'w1');
    assert.ok(isUserError(back) && back.identifier === 'options.width' && back.message === 'Width must be a multiple of 16.');
    const lost = errorFromReason('job stalled more than allowable limit', 'w1');
    assert.ok(isUserError(lost) && lost.identifier === 'worker.lost');
    const bug = errorFromReason(failureReason(new TypeError('x is undefined')), 'w1');
    assert.ok(!isUserError(bug));
    assert.match(bug.message, /worker w1 failed: x is undefined/);
  });

  it('rebuilds the PNG fields of a job from the pipeline call as the bot stored them', () => {
    assert.deepEqual(
      pngFieldsOf(
        { prompt: 'p', negativePrompt: 'n', guidanceScale: 3, seed: 42n, numImages: 2 },
        { width: 64, height: 64, numInferenceSteps: 7, scheduler: 'ddim', rng: 'cpu' },
      ),
      {
        prompt: 'p',
        negativePrompt: 'n',
        steps: 7,
        scheduler: 'ddim',
        guidance: 3,
        seed: '42',
        kind: 'imagine',
        strength: 0,
        emphasis: 'original',
      },
    );
    assert.equal(
      pngFieldsOf(
        { prompt: '(p:1.2)', guidanceScale: 3, seed: 1, numImages: 1, emphasis: 'no-norm' },
        { width: 64, height: 64, numInferenceSteps: 7, scheduler: 'ddim', rng: 'cpu' },
      ).emphasis,
      'no-norm',
      'the PNG of a remote job records its emphasis mode',
    );
  });
});
