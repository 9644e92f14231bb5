import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real `redis-server` started for a test: on a unix socket (default) or a free TCP port of 127.0.0.1. */
export interface RedisServer {
  /** `unix:///…/redis.sock` or `redis://[:password@]127.0.0.1:<port>`. */
  readonly url: string;
  readonly pid: number | undefined;
  /** Kills it (SIGKILL: nothing saved, as a crash); resolves when it is gone. */
  kill(): Promise<void>;
  /** Starts it again at the same address, empty (it saves nothing). */
  restart(): Promise<void>;
  /** Stops it and deletes its folder. */
  close(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Listen on TCP (127.0.0.1, a free port) instead of a unix socket. */
  readonly tcp?: boolean;
  /** `requirepass`. */
  readonly password?: string;
}

/** The `redis-server` binary, or a clear error telling how to get it (Debian: `apt-get install redis-server`). */
export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('redis-server is not installed: `apt-get install -y redis-server` (.ci/run installs it when missing)');
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts a `redis-server` that keeps nothing on disk (`--save '' --appendonly no`) and never evicts keys
 * (`maxmemory-policy noeviction`, as BullMQ requires), and resolves once it accepts connections.
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'latentcord-redis-'));
  const socket = join(dir, 'redis.sock');
  const port = options.tcp ? await freePort() : 0;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--dir',
    dir,
    ...(options.tcp ? [] : ['--unixsocket', socket, '--unixsocketperm', '700']),
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 20 s:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (/ready to accept connections/iu.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code ?? signal}):\n${output}`));
      });
    });
    child.stdout!.resume();
    child.stderr!.resume();
  };
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  };
  await launch();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    url: options.tcp
      ? `redis://${auth}127.0.0.1:${port}`
      : `unix://${socket}${options.password ? `?password=${encodeURIComponent(options.password)}` : ''}`,
    get pid() {
      return child.pid;
    },
    kill: () => stop('SIGKILL'),
    restart: async () => {
      await stop('SIGKILL');
      await launch();
    },
    close: async () => {
      await stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
