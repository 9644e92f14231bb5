import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyModelDir } from '../helpers/fixtures.js';
import type { LogLine } from './scale-harness.js';

/** The compiled CLI next to this compiled test (dist/cli.js). */
const cliPath = fileURLToPath(new URL('../../cli.js', import.meta.url));

/** Settings that make a worker react within seconds in tests (production defaults are 5 s, 30 s, 30 s). */
export const fastScale = { heartbeatSeconds: 1, lockSeconds: 4, stalledCheckSeconds: 2 };

/** A real `node dist/cli.js worker` process. */
export interface WorkerProcess {
  readonly name: string;
  readonly process: ChildProcess;
  readonly logs: LogLine[];
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a log line matching the predicate (also one logged before). */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Process id of its pipeline process (from its `pipeline ready` line). */
  pipelinePid(): number | undefined;
  /** SIGTERM (graceful) and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, as a crash or a lost machine, and wait for the exit (its pipeline child follows it). */
  kill(): Promise<void>;
}

/** Options of {@link startWorker}. */
export interface WorkerProcessOptions {
  readonly name: string;
  readonly redisUrl: string;
  readonly modelDir?: string;
  /** Merged over `{ runtime: { warmUp: false }, scale: fastScale }` into its config file. */
  readonly config?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}

/** Starts a worker on the tiny model (one onnxruntime thread) and waits until it takes jobs. */
export async function startWorker(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const dir = mkdtempSync(join(tmpdir(), `latentcord-worker-${options.name}-`));
  const configFile = join(dir, 'config.json');
  const extra = options.config ?? {};
  writeFileSync(
    configFile,
    JSON.stringify({
      ...extra,
      runtime: { warmUp: false, ...(extra['runtime'] as object) },
      scale: { ...fastScale, ...(extra['scale'] as object) },
    }),
  );
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    LATENTCORD_REDIS_URL: options.redisUrl,
    LATENTCORD_MODEL_DIR: options.modelDir ?? tinyModelDir,
    LATENTCORD_DEVICE: 'cpu',
    LATENTCORD_THREADS: '1',
    LATENTCORD_WORKER_NAME: options.name,
    LATENTCORD_DATA_DIR: join(dir, 'data'),
    LATENTCORD_CONFIG: configFile,
    LATENTCORD_LOG_LEVEL: 'debug',
    LATENTCORD_LOG_PRETTY: 'false',
    ...options.env,
  };
  const child = spawn(process.execPath, [cliPath, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const output: string[] = [];
  const waiters = new Set<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  const onData = (buffer: { rest: string }) => (chunk: Buffer) => {
    buffer.rest += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.rest.indexOf('\n')) >= 0) {
      const text = buffer.rest.slice(0, newline);
      buffer.rest = buffer.rest.slice(newline + 1);
      output.push(text);
      if (process.env['LATENTCORD_TEST_BOT_LOGS']) process.stderr.write(`[${options.name}] ${text}\n`);
      try {
        const line = JSON.parse(text) as LogLine;
        logs.push(line);
        for (const waiter of waiters) {
          if (waiter.predicate(line)) {
            waiters.delete(waiter);
            waiter.resolve(line);
          }
        }
      } catch {
        // not a JSON line
      }
    }
  };
  child.stdout!.on('data', onData({ rest: '' }));
  child.stderr!.on('data', onData({ rest: '' }));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> => {
    const found = logs.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = { predicate, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(`worker ${options.name}: no log line matched within ${timeoutMs} ms; last lines:\n${output.slice(-15).join('\n')}`),
        );
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then(({ code, signal }) => {
        if (waiters.delete(waiter)) {
          clearTimeout(timer);
          reject(new Error(`worker ${options.name} exited (${code ?? signal}) first; last lines:\n${output.slice(-15).join('\n')}`));
        }
      });
    });
  };
  const alive = () => child.exitCode === null && child.signalCode === null;
  const worker: WorkerProcess = {
    name: options.name,
    process: child,
    logs,
    output,
    exited,
    waitForLog,
    pipelinePid: () => logs.find((line) => line.msg === 'pipeline ready')?.['pipelinePid'] as number | undefined,
    async stop() {
      if (alive()) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitForLog((line) => line.msg === 'worker ready: taking jobs', 90_000);
  } catch (error) {
    await worker.kill();
    throw error;
  }
  return worker;
}
