/**
 * Preloaded into the soak's bot process and its pipeline process (`NODE_OPTIONS=--import=…/heap-probe.js`,
 * which the pipeline process inherits). On SIGUSR2 it runs a full garbage collection and appends one JSON
 * line to the file named by `LATENTCORD_BENCH_PROBE_FILE`: the process's memory figures after the GC and
 * its event-loop delay since the previous report. Does nothing without that variable.
 */
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const file = process.env['LATENTCORD_BENCH_PROBE_FILE'];
if (file) {
  // `--expose-gc` is not allowed in NODE_OPTIONS; set after start-up, it gives new contexts a `gc` global.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('SIGUSR2', () => {
    const loop = { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
    delay.reset();
    gc();
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    appendFileSync(
      file,
      `${JSON.stringify({ pid: process.pid, at: Date.now(), rss, heapUsed, heapTotal, newSpace, external, arrayBuffers, loop })}\n`,
    );
  });
}
