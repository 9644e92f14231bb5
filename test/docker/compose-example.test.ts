import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/fixtures.js';
import { parseDockerfile } from './dockerfile-model.js';

const run = promisify(execFile);
const composeFile = join(repoRoot, 'docker-compose.example.yml');
const composeText = readFileSync(composeFile, 'utf8');
const composeLines = composeText.split(/\r?\n/u).filter((line) => !/^\s*#/u.test(line));

/**
 * The lines of a top-level YAML key's block or of one entry under it (by indentation), comments dropped.
 * Enough for this hand-written file; it is no YAML parser.
 */
function block(lines: readonly string[], key: string, indent: number): string[] {
  const prefix = `${' '.repeat(indent)}${key}:`;
  const start = lines.findIndex((line) => line === prefix || line.startsWith(`${prefix} `));
  assert.ok(start >= 0, `compose file has ${key}`);
  const body: string[] = [lines[start]!];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== '' && line.length - line.trimStart().length <= indent) break;
    body.push(line);
  }
  return body;
}

function serviceText(name: string): string {
  return block(block(composeLines, 'services', 0), name, 2).join('\n');
}

/** Seconds of a Compose duration such as `45s`, `1m30s` or `90`. */
function durationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  if (/^\d+$/u.test(text)) return Number(text);
  let total = 0;
  let rest = text;
  for (;;) {
    const match = /^(\d+(?:\.\d+)?)(ms|h|m|s)/u.exec(rest);
    if (!match) break;
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  assert.equal(rest, '', `duration ${text}`);
  return total;
}

describe('docker-compose.example.yml', () => {
  const common = block(composeLines, 'x-latentcord', 0).join('\n');

  test('the GPU service builds the cuda target and reserves one NVIDIA GPU', () => {
    const gpu = serviceText('latentcord');
    assert.match(gpu, /^\s+<<: \*latentcord$/mu);
    assert.match(gpu, /^\s+target: cuda$/mu);
    assert.match(gpu, /^\s+profiles: \[gpu\]$/mu);
    assert.match(gpu, /deploy:\s+resources:\s+reservations:\s+devices:\s+- driver: nvidia\s+count: 1\s+capabilities: \[gpu\]/u);
  });

  test('the CPU service builds the cpu target in its own profile, without a GPU', () => {
    const cpu = serviceText('latentcord-cpu');
    assert.match(cpu, /^\s+<<: \*latentcord$/mu);
    assert.match(cpu, /^\s+target: cpu$/mu);
    assert.match(cpu, /^\s+profiles: \[cpu\]$/mu);
    assert.doesNotMatch(cpu, /nvidia|devices/u);
  });

  test('the targets it names exist in the Dockerfile', () => {
    const stages = new Set(parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')).stages.map((stage) => stage.name));
    for (const match of composeText.matchAll(/^\s+target: (\S+)$/gmu)) assert.ok(stages.has(match[1]!), `stage ${match[1]}`);
  });

  test('the shared settings: token from an env file, data volume, restart policy', () => {
    assert.match(common, /^\s+env_file: \.env$/mu);
    assert.match(common, /^\s+- latentcord-data:\/data$/mu);
    assert.match(common, /^\s+restart: unless-stopped$/mu);
    assert.match(block(composeLines, 'volumes', 0).join('\n'), /^\s+latentcord-data:$/mu);
    assert.doesNotMatch(composeLines.join('\n'), /DISCORD_TOKEN\s*[:=]\s*\S/u, 'no token written into the file');
  });

  test('stop_grace_period leaves the bot time to drain for shutdown.graceSeconds', () => {
    const defaults = JSON.parse(readFileSync(join(repoRoot, 'config', 'default.json'), 'utf8')) as { shutdown: { graceSeconds: number } };
    const match = /^\s+stop_grace_period: (\S+)$/mu.exec(common);
    assert.ok(match, 'stop_grace_period is set');
    const grace = durationSeconds(match[1]!);
    assert.ok(
      grace >= defaults.shutdown.graceSeconds + 10,
      `${grace} s >= graceSeconds ${defaults.shutdown.graceSeconds} s + 10 s for the rest of the shutdown`,
    );
  });

  test('docs/docker.md documents stop timeout and grace period consistently', () => {
    const docs = readFileSync(join(repoRoot, 'docs', 'docker.md'), 'utf8');
    const grace = /^\s+stop_grace_period: (\d+)s$/mu.exec(common)?.[1];
    assert.ok(grace);
    assert.ok(docs.includes(`--stop-timeout ${grace}`), `docs use --stop-timeout ${grace}`);
    assert.ok(docs.includes(`stop_grace_period: ${grace}s`));
    for (const needed of [
      '--gpus all',
      'NVIDIA Container Toolkit',
      'docker build --target cuda',
      'docker build --target cpu',
      '/healthz',
      'LATENTCORD_MODEL_DIR=/models',
      'docker logs',
    ]) {
      assert.ok(docs.includes(needed), `docs mention ${needed}`);
    }
  });

  test('docker compose accepts the file, when a Compose CLI is installed', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'latentcord-compose-'));
    try {
      copyFileSync(composeFile, join(dir, 'docker-compose.yml'));
      writeFileSync(join(dir, '.env'), 'DISCORD_TOKEN=not-a-real-token\n');
      const attempts: Array<[string, string[]]> = [
        ['docker', ['compose', '--profile', 'gpu', '--profile', 'cpu', 'config', '--quiet']],
        ['docker-compose', ['--profile', 'gpu', '--profile', 'cpu', 'config', '--quiet']],
      ];
      for (const [program, args] of attempts) {
        const result = await run(program, args, { cwd: dir, timeout: 60_000 }).then(
          () => ({ ok: true as const }),
          (error: { code?: unknown; stderr?: string }) => ({ ok: false as const, error }),
        );
        if (result.ok) return;
        // ENOENT: not installed; `docker: 'compose' is not a docker command`: no plugin.
        const missing =
          result.error.code === 'ENOENT' || /is not a docker command|unknown (shorthand )?flag/u.test(result.error.stderr ?? '');
        if (!missing) assert.fail(`${program} ${args.join(' ')} rejected the file:\n${result.error.stderr ?? ''}`);
      }
      t.skip('no Docker Compose CLI installed (docker compose or docker-compose)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
