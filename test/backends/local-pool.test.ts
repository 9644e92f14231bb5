import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LocalPipelinePool } from '../../src/backends/index.js';
import { isUserError } from '../../src/errors.js';
import type { BatchParameters, GenerationJob, StepProgress } from '../../src/pipeline/stable-diffusion.js';
import { defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { tinyModelDir } from '../helpers/fixtures.js';

const job: GenerationJob = { prompt: 'a lighthouse', guidanceScale: 7.5, seed: 7, numImages: 1 };
const parameters: BatchParameters = { width: 64, height: 64, numInferenceSteps: 3, scheduler: 'euler', rng: 'cpu' };
const { log: _log, ...runtime } = defaultRuntimeOptions;

/** Resolves at the first progress report of a run. */
function firstStep(): { onProgress: (progress: StepProgress) => void; reached: Promise<void> } {
  let reached!: () => void;
  const promise = new Promise<void>((resolve) => (reached = resolve));
  return { onProgress: () => reached(), reached: promise };
}

describe('LocalPipelinePool (one pipeline process per device)', () => {
  let pool: LocalPipelinePool;
  before(async () => {
    pool = await LocalPipelinePool.start({ modelDir: tinyModelDir, runtime: { ...runtime, intraOpThreads: 1 }, deviceIds: [0, 1] });
  });
  after(async () => {
    await pool?.close();
  });

  it('starts one process per device and counts them as its capacity', () => {
    assert.equal(pool.capacity, 2);
    const pids = pool.pids;
    assert.equal(new Set(pids).size, 2, `two processes: ${pids.join(', ')}`);
    assert.deepEqual(
      pool.members.map((member) => member.deviceId),
      [0, 1],
    );
    assert.equal(pool.info.device, 'cpu');
  });

  it('runs a second batch on the free process while the first is held, with the same pictures as alone', async () => {
    const alone = await pool.run([job], parameters);
    const first = firstStep();
    const held = pool.run([{ ...job, seed: 8 }], { ...parameters, numInferenceSteps: 400 }, { onProgress: first.onProgress });
    await first.reached;
    const busy = pool.members.find((member) => member.busy)!;
    process.kill(busy.worker.pid!, 'SIGSTOP'); // it cannot finish while we look: no race with a fast machine
    try {
      const second = pool.run([job], parameters);
      await assert.rejects(
        pool.run([job], parameters),
        /all 2 pipeline processes busy/,
        'the runner never asks for more than the capacity',
      );
      assert.deepEqual((await second).jobs[0]!.images[0]!.rgb, alone.jobs[0]!.images[0]!.rgb, 'same seed, same picture on either device');
    } finally {
      process.kill(busy.worker.pid!, 'SIGCONT');
    }
    busy.worker.kill();
    await assert.rejects(held, (error: unknown) => isUserError(error) && error.identifier === 'worker.crashed');
  });

  it('restarts a crashed process on its own and keeps serving on both', async () => {
    const restarts = pool.restarts;
    const events: { reason: string; deviceId: number }[] = [];
    pool.on('restart', (reason: string, deviceId: number) => events.push({ reason, deviceId }));
    const first = firstStep();
    const running = pool.run([job], { ...parameters, numInferenceSteps: 400 }, { onProgress: first.onProgress });
    await first.reached;
    const member = pool.members.find((candidate) => candidate.busy)!;
    assert.equal(pool.members.filter((candidate) => candidate.busy).length, 1);
    member.worker.kill();
    await assert.rejects(running, (error: unknown) => isUserError(error) && error.identifier === 'worker.crashed');
    const results = await Promise.all([pool.run([job], parameters), pool.run([job], parameters)]);
    assert.equal(results.length, 2);
    assert.ok(pool.restarts > restarts, 'the restart is counted');
    assert.ok(events.some((event) => event.deviceId === member.deviceId && /exited/.test(event.reason)));
  });
});
