import type { Store } from '../store/index.js';

const dayMs = 24 * 60 * 60 * 1000;

/** Where the retention reports: a pino logger, or anything shaped like its `info` and `warn`. */
export interface RetentionLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

/** Options of {@link startJobRetention}. */
export interface JobRetentionOptions {
  readonly store: Pick<Store, 'pruneJobs' | 'countJobsByStatus'>;
  readonly logger: RetentionLog;
  /** Finished jobs older than this many days are deleted; 0 keeps them forever (config `jobs.retentionDays`). */
  readonly retentionDays: number;
  /** Time between two runs; default an hour. */
  readonly intervalMs?: number;
  /** Rows deleted per statement; default 500 (a few milliseconds of SQLite each). */
  readonly batchSize?: number;
  /** Statements per run, at most; default 20. What is left waits for the next run. */
  readonly maxBatchesPerRun?: number;
  /** Clock in ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
}

/** A running retention timer. */
export interface JobRetention {
  /** One run now (the timer's runs do the same); resolves with the number of records deleted. */
  runOnce(): Promise<number>;
  /** Stops the timer; a run in progress finishes its current statement. */
  stop(): void;
}

/**
 * Keeps job records (prompts included) only as long as configured: deletes finished jobs older than
 * `retentionDays` at start and then on a timer, in small batches with the event loop free between them, and
 * never more than a bounded amount per run, so a large backlog after an upgrade is worked off over several runs
 * instead of stalling the bot. Unfinished jobs are never deleted.
 */
export function startJobRetention(options: JobRetentionOptions): JobRetention {
  const { store, logger, retentionDays } = options;
  const batchSize = options.batchSize ?? 500;
  const maxBatches = options.maxBatchesPerRun ?? 20;
  const now = options.now ?? Date.now;
  let stopped = false;
  let running: Promise<number> | undefined;

  const prune = async (): Promise<number> => {
    if (retentionDays === 0) return 0;
    const cutoff = now() - retentionDays * dayMs;
    let removed = 0;
    for (let batch = 0; batch < maxBatches && !stopped; batch++) {
      const deleted = store.pruneJobs(cutoff, batchSize);
      removed += deleted;
      if (deleted < batchSize) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (removed > 0) logger.info({ removed, retentionDays, stored: store.countJobsByStatus() }, 'old job records pruned');
    return removed;
  };
  const runOnce = (): Promise<number> => {
    // One run at a time: a slow disk must not make runs pile up.
    running ??= prune()
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'could not prune old job records; trying again later');
        return 0;
      })
      .finally(() => (running = undefined));
    return running;
  };

  const timer = retentionDays === 0 ? undefined : setInterval(() => void runOnce(), options.intervalMs ?? 60 * 60 * 1000);
  timer?.unref();
  void runOnce();
  return {
    runOnce,
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
  };
}
