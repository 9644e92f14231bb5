import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** Where one model's optimised graph lives in the cache, and whether it is there yet. */
export interface CacheEntry {
  /** The cached optimised `model.onnx` (its weights in `model.onnx.data` beside it). */
  readonly modelPath: string;
  /** True when a complete earlier entry exists. */
  readonly hit: boolean;
  /** Folder to write a new entry into; publish it with {@link publishEntry}. */
  readonly stagingDir: string;
  /** Final folder of the entry. */
  readonly entryDir: string;
}

/** What decides whether an optimised graph can be reused. */
export interface CacheKeyParts {
  readonly onnxruntimeVersion: string;
  /** e.g. `cpu` or `cuda:0`. */
  readonly provider: string;
  readonly graphOptimizationLevel: string;
}

/** File name of the optimised model inside an entry. */
export const cachedModelFile = 'model.onnx';
/** File name of its external weights (onnxruntime writes them there, as a 2 GB protobuf cannot hold SD's UNet). */
export const cachedWeightsFile = 'model.onnx.data';
const sourceFile = 'source.json';

/**
 * Files whose change invalidates a cached graph: the model and any external weights beside it. Size and
 * modification time stand for the content (hashing gigabytes at every start would cost what the cache saves).
 */
function sourceFingerprint(modelPath: string): { path: string; size: number; mtimeMs: number }[] {
  const folder = dirname(modelPath);
  return readdirSync(folder)
    .filter((name) => name === basename(modelPath) || !/\.(json|txt|md)$/i.test(name))
    .sort()
    .map((name) => {
      const stat = statSync(join(folder, name));
      return { path: name, size: stat.size, mtimeMs: Math.trunc(stat.mtimeMs) };
    });
}

/**
 * The cache entry for one model under `cacheDir`, keyed by the model's files, the onnxruntime version, the
 * execution provider, the optimisation level and the CPU (optimisations at level "all" can be specific to
 * the hardware that made them).
 */
export function cacheEntryFor(cacheDir: string, modelPath: string, parts: CacheKeyParts): CacheEntry {
  const source = resolve(modelPath);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        source,
        files: sourceFingerprint(source),
        ...parts,
        cpu: cpus()[0]?.model ?? 'unknown',
        arch: process.arch,
        platform: process.platform,
      }),
    )
    .digest('hex')
    .slice(0, 32);
  const entryDir = join(cacheDir, key);
  const modelFile = join(entryDir, cachedModelFile);
  return {
    modelPath: modelFile,
    hit: existsSync(join(entryDir, sourceFile)) && existsSync(modelFile),
    stagingDir: join(cacheDir, `${key}.staging-${process.pid}`),
    entryDir,
  };
}

/**
 * Moves a freshly written entry into place (atomic rename, so a crash mid-write never leaves a half entry
 * that looks complete) and removes older entries made from the same source model.
 */
export function publishEntry(entry: CacheEntry, modelPath: string): void {
  const source = resolve(modelPath);
  writeFileSync(join(entry.stagingDir, sourceFile), JSON.stringify({ source, createdAt: new Date().toISOString() }));
  rmSync(entry.entryDir, { recursive: true, force: true });
  renameSync(entry.stagingDir, entry.entryDir);
  const cacheDir = dirname(entry.entryDir);
  for (const name of readdirSync(cacheDir)) {
    const dir = join(cacheDir, name);
    if (dir === entry.entryDir) continue;
    try {
      const other = JSON.parse(readFileSync(join(dir, sourceFile), 'utf8')) as { source?: string };
      if (other.source === source) rmSync(dir, { recursive: true, force: true });
    } catch {
      // not an entry (or a staging folder of a running process): leave it
    }
  }
}

/**
 * Prepares a clean staging folder, and removes those that processes which died while writing left behind (a
 * full-size UNet's staging folder holds gigabytes).
 */
export function prepareStaging(entry: CacheEntry): void {
  const cacheDir = dirname(entry.stagingDir);
  for (const name of existsSync(cacheDir) ? readdirSync(cacheDir) : []) {
    const pid = /\.staging-(\d+)$/.exec(name)?.[1];
    if (pid !== undefined && !isRunning(Number(pid))) rmSync(join(cacheDir, name), { recursive: true, force: true });
  }
  rmSync(entry.stagingDir, { recursive: true, force: true });
  mkdirSync(entry.stagingDir, { recursive: true });
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
