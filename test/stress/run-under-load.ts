/**
 * `npm run test:stress`: runs the end-to-end suite while one CPU-bound busy loop per core runs beside it, so a
 * change can be checked against a loaded machine (the tests must wait for states, never for time).
 *
 *   node dist/test/stress/run-under-load.js [--runs N] [--loops N] [compiled test files…]
 *
 * Without files it runs every `*.e2e.test.js` under dist/test and the fake Discord's own tests. The loops are
 * started before and stopped after the runs, also when a run fails or the command is interrupted (SIGINT,
 * SIGTERM, SIGHUP); each loop also ends by itself when this process dies (see busy-loop.ts). The tests run in
 * their own process group, which is ended as a whole on interruption (bots and pipeline processes included).
 * The exit code is 0 only when every run passed.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test (this file is dist/test/stress/run-under-load.js). */
const compiledTests = dirname(here);
const busyLoopScript = join(here, 'busy-loop.js');

/** What the command line asked for. */
export interface StressOptions {
  readonly runs: number;
  readonly loops: number;
  readonly files: readonly string[];
}

/** The counts of one run, from the TAP summary of the test runner. */
export interface RunCounts {
  readonly tests: number;
  readonly pass: number;
  readonly fail: number;
  readonly cancelled: number;
  readonly skipped: number;
  readonly todo: number;
  readonly durationMs: number;
}

function positiveInteger(name: string, value: string | undefined): number {
  const number = Number(value);
  if (value === undefined || !Number.isInteger(number) || number < 1)
    throw new Error(`${name} needs a whole number of at least 1, got ${value}`);
  return number;
}

/** Parses `--runs N`, `--loops N` and test files; throws on anything else. */
export function parseStressArgs(argv: readonly string[], cores: number): StressOptions {
  let runs = 1;
  let loops = cores;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--runs') runs = positiveInteger('--runs', argv[++i]);
    else if (arg === '--loops') loops = positiveInteger('--loops', argv[++i]);
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg} (use --runs N, --loops N, then compiled test files)`);
    else files.push(arg);
  }
  return { runs, loops, files };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The end-to-end suite: every compiled `*.e2e.test.js`, and the fake Discord's tests (a real discord.js client). */
export function e2eSuite(testRoot: string): string[] {
  return filesUnder(testRoot)
    .filter((file) => file.endsWith('.e2e.test.js') || (dirname(file) === join(testRoot, 'fake-discord') && file.endsWith('.test.js')))
    .sort();
}

/** Reads the final summary (`# tests 12`, `# pass 12`, …) of a TAP report. */
export function parseTapSummary(tap: string): RunCounts | undefined {
  const value = (key: string): number | undefined => {
    const matches = [...tap.matchAll(new RegExp(`^# ${key} (\\d+(?:\\.\\d+)?)$`, 'gm'))];
    const last = matches.at(-1);
    return last ? Number(last[1]) : undefined;
  };
  const tests = value('tests');
  if (tests === undefined) return undefined;
  return {
    tests,
    pass: value('pass') ?? 0,
    fail: value('fail') ?? 0,
    cancelled: value('cancelled') ?? 0,
    skipped: value('skipped') ?? 0,
    todo: value('todo') ?? 0,
    durationMs: value('duration_ms') ?? 0,
  };
}

/** Forks the busy loops and resolves once each one is burning its core. */
async function startLoops(count: number, onUnexpectedExit: (pid: number) => void): Promise<ChildProcess[]> {
  const loops = Array.from({ length: count }, () => fork(busyLoopScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await Promise.all(
    loops.map(
      (loop) =>
        new Promise<void>((resolve, reject) => {
          loop.once('message', () => resolve());
          loop.once('exit', (code, signal) => reject(new Error(`a busy loop ended before it started (${code ?? signal})`)));
        }),
    ),
  );
  for (const loop of loops) loop.on('exit', () => onUnexpectedExit(loop.pid!));
  return loops;
}

/** Stops the loops: asks them, then kills what is left after a second. */
async function stopLoops(loops: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    loops.map(async (loop) => {
      loop.removeAllListeners('exit');
      if (loop.exitCode !== null || loop.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => loop.once('exit', () => resolve()));
      if (loop.connected) loop.send('stop');
      const timer = setTimeout(() => loop.kill('SIGKILL'), 1000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** One `node --test` of the files in its own process group: spec output here, TAP to `tapFile`. */
function startSuite(files: readonly string[], tapFile: string): ChildProcess {
  const args = [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
  // A runner started from inside a test (NODE_TEST_CONTEXT set) would report to that test instead of here.
  const { NODE_TEST_CONTEXT: _inherited, ...env } = process.env;
  return spawn(process.execPath, args, { stdio: 'inherit', detached: true, env });
}

/** Signals a whole process group, ignoring a group that is already gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function describeCounts(counts: RunCounts | undefined): string {
  if (!counts) return 'no summary (the runner did not finish)';
  return `tests ${counts.tests}, pass ${counts.pass}, fail ${counts.fail}, cancelled ${counts.cancelled}, skipped ${counts.skipped}, todo ${counts.todo}`;
}

async function main(): Promise<number> {
  const options = parseStressArgs(process.argv.slice(2), availableParallelism());
  const files = options.files.length > 0 ? [...options.files] : e2eSuite(compiledTests);
  if (files.length === 0) throw new Error(`no end-to-end tests under ${compiledTests}: build first (npm run build)`);
  for (const file of files) if (!existsSync(file)) throw new Error(`no such test file: ${file}`);
  const work = mkdtempSync(join(tmpdir(), 'latentcord-stress-'));

  let suite: ChildProcess | undefined;
  let interrupted: NodeJS.Signals | undefined;
  let lostLoad = false;
  let loops: ChildProcess[] = [];
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = signal;
    process.stderr.write(`\nstress: ${signal}: stopping the tests and the busy loops\n`);
    if (suite?.pid !== undefined) {
      const pid = suite.pid;
      signalGroup(pid, 'SIGTERM');
      setTimeout(() => signalGroup(pid, 'SIGKILL'), 10_000).unref();
    }
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, onSignal);

  const results: { counts: RunCounts | undefined; exitCode: number | null; wallMs: number; load: number[] }[] = [];
  try {
    loops = await startLoops(options.loops, (pid) => {
      // On Ctrl-C the terminal signals the loops too; that is no lost load.
      if (interrupted) return;
      lostLoad = true;
      process.stderr.write(`stress: busy loop ${pid} ended during the run; the run no longer proves anything\n`);
    });
    process.stdout.write(
      `stress: ${loops.length} busy loop(s) on ${availableParallelism()} core(s) (pids ${loops.map((l) => l.pid).join(', ')}); ` +
        `${files.length} test files, ${options.runs} run(s); LATENTCORD_TEST_TIME_SCALE=${process.env['LATENTCORD_TEST_TIME_SCALE'] ?? '(unset)'}, CI=${process.env['CI'] ?? '(unset)'}\n`,
    );
    for (let run = 1; run <= options.runs && !interrupted; run++) {
      const tapFile = join(work, `run-${run}.tap`);
      const started = performance.now();
      suite = startSuite(files, tapFile);
      const running = suite;
      const exitCode = await new Promise<number | null>((resolve) => running.once('exit', (code) => resolve(code)));
      // The runner is gone; end anything of the run it left behind (a bot of a cancelled test, say).
      if (running.pid !== undefined) signalGroup(running.pid, 'SIGKILL');
      suite = undefined;
      const wallMs = performance.now() - started;
      const counts = existsSync(tapFile) ? parseTapSummary(readFileSync(tapFile, 'utf8')) : undefined;
      const load = loadavg().map((l) => Math.round(l * 100) / 100);
      results.push({ counts, exitCode: lostLoad ? 1 : exitCode, wallMs, load });
      process.stdout.write(
        `stress: run ${run}/${options.runs}: ${exitCode === 0 && !lostLoad ? 'passed' : 'FAILED'} — ${describeCounts(counts)}; ` +
          `wall ${seconds(wallMs)}; load average ${load.join(' / ')}\n`,
      );
    }
  } finally {
    await stopLoops(loops);
    for (const signal of signals) process.off(signal, onSignal);
    rmSync(work, { recursive: true, force: true });
  }

  const passed = results.filter((r) => r.exitCode === 0).length;
  process.stdout.write(`stress: ${passed} of ${results.length} run(s) passed under ${loops.length} busy loop(s); the loops are stopped\n`);
  if (interrupted) return 128 + (interrupted === 'SIGINT' ? 2 : interrupted === 'SIGTERM' ? 15 : 1);
  return passed === results.length && results.length === options.runs ? 0 : 1;
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`stress: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
