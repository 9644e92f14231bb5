// A sample suite for the tests of run-under-load.ts: a test that never ends, and says where it runs (its pid,
// in the file named by STRESS_SAMPLE_PID_FILE) so the interruption test can check that it was ended.
import { writeFileSync } from 'node:fs';
import { it } from 'node:test';

it('never ends', async () => {
  const pidFile = process.env['STRESS_SAMPLE_PID_FILE'];
  if (pidFile) writeFileSync(pidFile, String(process.pid));
  await new Promise(() => setInterval(() => undefined, 1000));
});
