/**
 * One CPU-bound process for `npm run test:stress`: it keeps one core busy until its parent tells it to stop,
 * disconnects, or dies. It burns the CPU in 50 ms slices and yields between them, so the IPC channel's
 * `disconnect` (the parent exited, however it exited) is noticed and no loop outlives the run.
 */

const sliceMs = 50;
let sink = 0;

function burn(): void {
  const end = Date.now() + sliceMs;
  while (Date.now() < end) sink = (sink * 1_103_515_245 + 12_345) % 2_147_483_648;
  setImmediate(burn);
}

if (typeof process.send !== 'function') {
  process.stderr.write('busy-loop: start me with an IPC channel (child_process.fork)\n');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
process.on('message', (message) => {
  if (message === 'stop') process.exit(0);
});
process.send('busy');
burn();
