import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const load = (env: Record<string, string> = {}) => loadConfig({ env, configFile: null, onWarning: () => undefined });

function problemsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map((problem) => problem.message);
  }
  assert.fail('expected a ConfigError');
}

describe('configuration of several pipelines and of Redis (issue 10)', () => {
  it('is off by default: one local pipeline process, no Redis', () => {
    const config = load();
    assert.equal(config.deviceIds, null);
    assert.equal(config.scale.redisUrl, null);
    assert.equal(config.scale.workerName, null);
  });

  it('refuses device lists that are empty, repeat an index or go past 63', () => {
    for (const text of ['0,0', '64', 'a,b', '1.5', '-1']) {
      assert.match(
        problemsOf(() => load({ LATENTCORD_DEVICE_IDS: text }))[0] ?? '',
        /^environment variable LATENTCORD_DEVICE_IDS: `deviceIds` must be a non-empty list of distinct device indexes/,
        text,
      );
    }
  });

  it('accepts redis://, rediss:// (TLS) and unix:// URLs and refuses others with the reason', () => {
    for (const url of ['redis://127.0.0.1:6379', 'redis://user:pw@host:1/15', 'rediss://host', 'unix:///run/redis.sock']) {
      assert.equal(load({ LATENTCORD_REDIS_URL: url }).scale.redisUrl, url);
    }
    for (const url of ['http://host:6379', 'redis://', 'redis://host/x', 'localhost:6379']) {
      assert.match(
        problemsOf(() => load({ LATENTCORD_REDIS_URL: url }))[0] ?? '',
        /`scale.redisUrl` must be a `redis:\/\/`, `rediss:\/\/` or `unix:\/\/` URL/,
        url,
      );
    }
  });

  it('refuses worker names that would not survive a Redis key or a log line', () => {
    assert.match(problemsOf(() => load({ LATENTCORD_WORKER_NAME: 'gpu box' }))[0] ?? '', /`scale.workerName` must be letters, digits/);
  });
});
