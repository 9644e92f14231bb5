import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/time-scale.js';
import { e2eSuite, parseStressArgs, parseTapSummary } from './run-under-load.js';

const here = dirname(fileURLToPath(import.meta.url));
const runner = join(here, 'run-under-load.js');
const sample = (name: string) => join(here, 'samples', `${name}.js`);

/** Whether a process exists and is not a zombie. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Starts the stress runner; collects its output. */
function startRunner(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [runner, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, output })),
  );
  return { child, exited, output: () => output };
}

/** The busy loops' pids, from the runner's first line. */
function loopPids(output: string): number[] {
  const match = /busy loop\(s\) on \d+ core\(s\) \(pids ([\d, ]+)\)/.exec(output);
  assert.ok(match, `the runner named its loops:\n${output}`);
  return match[1]!.split(', ').map(Number);
}

describe('the stress command (run-under-load)', () => {
  it('reads --runs, --loops and test files; one loop per core by default', () => {
    assert.deepEqual(parseStressArgs([], 2), { runs: 1, loops: 2, files: [] });
    assert.deepEqual(parseStressArgs(['--runs', '3', '--loops', '4', 'a.test.js', 'b.test.js'], 2), {
      runs: 3,
      loops: 4,
      files: ['a.test.js', 'b.test.js'],
    });
    assert.throws(() => parseStressArgs(['--runs', '0'], 2), /--runs needs a whole number of at least 1, got 0/);
    assert.throws(() => parseStressArgs(['--loops'], 2), /--loops needs a whole number/);
    assert.throws(() => parseStressArgs(['--fast'], 2), /unknown option --fast/);
  });

  it('reads the final counts of a TAP report', () => {
    const tap = [
      'TAP version 13',
      '# Subtest: x',
      'ok 1 - x',
      '1..1',
      '# tests 7',
      '# suites 2',
      '# pass 5',
      '# fail 1',
      '# cancelled 1',
      '# skipped 0',
      '# todo 0',
      '# duration_ms 1234.5',
    ];
    assert.deepEqual(parseTapSummary(tap.join('\n')), {
      tests: 7,
      pass: 5,
      fail: 1,
      cancelled: 1,
      skipped: 0,
      todo: 0,
      durationMs: 1234.5,
    });
    assert.equal(parseTapSummary('TAP version 13\n'), undefined);
  });

  it('runs every end-to-end test file and the fake Discord tests, nothing else', () => {
    const root = dirname(here);
    const suite = e2eSuite(root).map((file) => file.slice(root.length + 1));
    assert.ok(suite.includes('bot/queue.e2e.test.js'), suite.join(', '));
    assert.ok(suite.includes('bot/restart.e2e.test.js'));
    assert.ok(suite.includes('metrics/bot-http.e2e.test.js'));
    assert.ok(suite.includes('fake-discord/gateway.test.js'));
    assert.ok(!suite.includes('bot/messages.test.js'), 'unit tests stay out');
    assert.ok(!suite.some((file) => file.startsWith('stress/')), 'and so do these');
  });

  it('reports each run and passes when every run passed; the loops are gone afterwards', async () => {
    const { code, output } = await startRunner(['--loops', '1', '--runs', '2', sample('pass')]).exited;
    assert.equal(code, 0, output);
    assert.match(output, /run 1\/2: passed — tests 2, pass 2, fail 0/);
    assert.match(output, /run 2\/2: passed — tests 2, pass 2, fail 0, cancelled 0, skipped 0, todo 0; wall \d+\.\d s; load average/);
    assert.match(output, /2 of 2 run\(s\) passed under 1 busy loop\(s\)/);
    for (const pid of loopPids(output)) assert.equal(isAlive(pid), false, `busy loop ${pid} stopped`);
  });

  it('fails when a test fails, with the counts', async () => {
    const { code, output } = await startRunner(['--loops', '1', sample('fail')]).exited;
    assert.equal(code, 1, output);
    assert.match(output, /run 1\/1: FAILED — tests 2, pass 1, fail 1/);
    assert.match(output, /0 of 1 run\(s\) passed/);
    for (const pid of loopPids(output)) assert.equal(isAlive(pid), false, `busy loop ${pid} stopped`);
  });

  it('on Ctrl-C ends the running tests and the loops, and exits 130', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latentcord-stress-test-'));
    try {
      const pidFile = join(dir, 'hang.pid');
      const run = startRunner(['--loops', '1', sample('hang')], { STRESS_SAMPLE_PID_FILE: pidFile });
      const testPid = await waitFor(() => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')), 'the hanging test is running');
      const loops = loopPids(run.output());
      assert.ok(loops.every(isAlive), 'the loops run while the tests do');
      run.child.kill('SIGINT');
      const { code, output } = await run.exited;
      assert.equal(code, 130, output);
      assert.match(output, /SIGINT: stopping the tests and the busy loops/);
      for (const pid of loops) assert.equal(isAlive(pid), false, `busy loop ${pid} stopped`);
      await waitFor(() => !isAlive(testPid), `the test process ${testPid} ended`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
