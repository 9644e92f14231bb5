import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { tinyModelDir } from '../helpers/fixtures.js';
import { startFakeHub, type FakeHub, type FakeHubOptions, type FakeRequest } from '../fake-hub/fake-hub.js';
import type { DownloadModelOptions } from '../../src/hub/download-model.js';

/** Starts a fake Hub serving the tiny-sd fixture (plus junk), and a temporary target folder; `cleanup` stops and removes both. */
export async function setup(options: Partial<FakeHubOptions> = {}): Promise<{ hub: FakeHub; dir: string; cleanup: () => Promise<void> }> {
  const hub = await startFakeHub({ root: tinyModelDir, ...options });
  const dir = await mkdtemp(join(tmpdir(), 'latentcord-hub-'));
  return {
    hub,
    dir,
    cleanup: async () => {
      await hub.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Download options for a fake Hub: no environment, no waiting between retries. */
export function optionsFor(hub: FakeHub, dir: string, extra: Partial<DownloadModelOptions> = {}): DownloadModelOptions {
  return { repo: hub.repo, targetDir: dir, endpoint: hub.url, token: '', retry: { delayMs: 0, maxDelayMs: 0 }, ...extra };
}

/** Every file below `dir`, as sorted `/`-separated relative paths. */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) =>
      relative(dir, join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name))
        .split('\\')
        .join('/'),
    )
    .sort();
}

/** The file content requests of a log (GETs of a file, on the Hub or its CDN). */
export function fileGets(requests: readonly FakeRequest[], file?: string): FakeRequest[] {
  return requests.filter(
    (request) => request.method === 'GET' && request.file !== undefined && (file === undefined || request.file === file),
  );
}

/** Runs `body` with environment variables set (or removed with `undefined`), restoring them afterwards. */
export async function withEnv<T>(values: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  const apply = (source: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(source)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(values);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}
