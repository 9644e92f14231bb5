import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewJob, StoreLogger } from '../../src/store/index.js';

/** A fresh temporary folder; remove it with {@link removeTempDir}. */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'latentcord-store-'));
}

/** Removes a folder made by {@link makeTempDir}. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A logger that records what it was told. */
export function recordingLogger(): StoreLogger & {
  warnings: Array<{ details: Record<string, unknown>; message: string }>;
  infos: string[];
} {
  const warnings: Array<{ details: Record<string, unknown>; message: string }> = [];
  const infos: string[] = [];
  return {
    warnings,
    infos,
    warn: (details, message) => warnings.push({ details, message }),
    info: (_details, message) => infos.push(message),
  };
}

/** A manual clock. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; set: (ms: number) => void; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, set: (ms) => (time = ms), advance: (ms) => (time += ms) };
}

/** A complete new `imagine` job; override what a test cares about. */
export function newJob(changes: Partial<NewJob> = {}): NewJob {
  return {
    kind: 'imagine',
    guildId: '111111111111111111',
    channelId: '222222222222222222',
    userId: '333333333333333333',
    prompt: 'a running dog',
    negativePrompt: 'blur',
    emphasis: 'original',
    maxPromptTokens: 225,
    seed: '42',
    steps: 20,
    guidance: 7.5,
    width: 96,
    height: 64,
    scheduler: 'euler',
    count: 1,
    strength: 0.7,
    sourceImageUrl: null,
    ...changes,
  };
}
