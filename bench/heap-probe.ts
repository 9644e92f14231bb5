/**
 * Preloaded into the soak's bot process and its pipeline process (`NODE_OPTIONS=--import=…/heap-probe.js`,
 * which the pipeline process inherits). On SIGUSR2 it runs a full garbage collection and appends the
 * process's memory figures as one JSON line to the file named by `LATENTCORD_BENCH_PROBE_FILE`, so the
 * benchmark can compare the live heap (what survives a GC) at quiet moments. Does nothing without that variable.
 */
import { appendFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const file = process.env['LATENTCORD_BENCH_PROBE_FILE'];
if (file) {
  // `--expose-gc` is not allowed in NODE_OPTIONS; set after start-up, it gives new contexts a `gc` global.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  process.on('SIGUSR2', () => {
    gc();
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ pid: process.pid, at: Date.now(), rss, heapUsed, heapTotal, external, arrayBuffers })}\n`);
  });
}
