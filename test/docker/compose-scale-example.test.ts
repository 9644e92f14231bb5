import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';
import { parseDockerfile } from './dockerfile-model.js';

const text = readFileSync(join(repoRoot, 'docker-compose.scale.example.yml'), 'utf8');
const lines = text.split(/\r?\n/u).filter((line) => !/^\s*#/u.test(line));

/** The lines of one service (by indentation; enough for this hand-written file, not a YAML parser). */
function service(name: string): string {
  const start = lines.indexOf(`  ${name}:`);
  assert.ok(start >= 0, `service ${name}`);
  const body = [lines[start]!];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== '' && line.length - line.trimStart().length <= 2) break;
    body.push(line);
  }
  return body.join('\n');
}

describe('docker-compose.scale.example.yml (Redis, one bot, two workers)', () => {
  test('Redis never evicts, keeps its data, needs a password and is not published', () => {
    const redis = service('redis');
    assert.match(redis, /- --maxmemory-policy\n\s+- noeviction/u);
    assert.match(redis, /- --requirepass\n\s+- \$\{REDIS_PASSWORD:\?/u);
    assert.match(redis, /- --appendonly\n\s+- "yes"/u);
    assert.doesNotMatch(redis, /^\s+ports:/mu, 'Redis is reachable only inside the Compose network');
  });

  test('one bot holds the token; the two workers never do, and each has its own name and GPU', () => {
    const bot = service('bot');
    assert.match(bot, /command: \["bot"\]/u);
    assert.match(bot, /DISCORD_TOKEN: \$\{DISCORD_TOKEN:\?/u);
    const names = new Set<string>();
    const gpus = new Set<string>();
    for (const name of ['worker-1', 'worker-2']) {
      const worker = service(name);
      assert.match(worker, /command: \["worker"\]/u);
      assert.doesNotMatch(worker, /DISCORD_TOKEN|env_file/u, `${name} gets no token`);
      names.add(/LATENTCORD_WORKER_NAME: (\S+)/u.exec(worker)?.[1] ?? '');
      gpus.add(/device_ids: \["(\d+)"\]/u.exec(worker)?.[1] ?? '');
      assert.match(worker, /<<: \[\*redis-url, \*model\]/u);
      assert.match(worker, /- models:\/models:ro/u);
    }
    assert.equal(names.size, 2, 'distinct worker names');
    assert.equal(gpus.size, 2, 'one GPU each');
    assert.match(text, /LATENTCORD_REDIS_URL: redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379\/0/u);
    assert.doesNotMatch(lines.join('\n'), /DISCORD_TOKEN=\S|REDIS_PASSWORD=\S/u, 'no secret written into the file');
  });

  test('the bot and the workers wait for Redis and the model download, and drain on stop', () => {
    for (const name of ['bot', 'worker-1', 'worker-2']) {
      const body = service(name);
      assert.match(body, /redis:\n\s+condition: service_healthy/u, name);
      assert.match(body, /model:\n\s+condition: service_completed_successfully/u, name);
      assert.match(body, /stop_grace_period: 45s/u, name);
    }
    assert.match(
      service('model'),
      /command: \["download-model", "SimianLuo\/LCM_Dreamshaper_v7", "--dir", "\/models\/LCM_Dreamshaper_v7"\]/u,
    );
  });

  test('the targets it builds exist in the Dockerfile', () => {
    const stages = new Set(parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')).stages.map((stage) => stage.name));
    for (const match of text.matchAll(/^\s+target: (\S+)$/gmu)) assert.ok(stages.has(match[1]!), `stage ${match[1]}`);
  });
});
