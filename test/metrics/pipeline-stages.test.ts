import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHealth, pipelineStatusOf, type PipelineStatus } from '../../src/metrics/index.js';
import { defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { PipelineWorker, type PipelineProcessStatus } from '../../src/worker/pipeline-worker.js';
import { tinyModelDir } from '../helpers/fixtures.js';

const { log: _log, ...runtime } = defaultRuntimeOptions;
const providers = (pipeline: PipelineStatus) => ({
  discord: () => ({ ready: true, status: 'Ready' }),
  pipeline: () => pipeline,
  queue: () => ({ waiting: 0, running: 0 }),
});

describe('health during the pipeline’s start-up stages', () => {
  it('names each stage in the reason: starting, warming up at the default size, failed, restarting', () => {
    const reason = (pipeline: PipelineStatus) => checkHealth(providers(pipeline)).body.reason;
    assert.equal(reason({ ready: false, restarts: 0, stage: 'loading' }), 'pipeline process starting');
    assert.equal(
      reason({ ready: false, restarts: 0, stage: 'warming', loadMs: 4000, warmUpSize: { width: 512, height: 512 } }),
      'pipeline warming up at 512x512',
    );
    assert.equal(reason({ ready: false, restarts: 0, stage: 'failed' }), 'pipeline process failed to start');
    assert.equal(reason({ ready: false, restarts: 2, stage: 'loading' }), 'pipeline process restarting');
    const ready = checkHealth(providers({ ready: true, restarts: 0, stage: 'ready', loadMs: 4000, warmUpMs: 9000 }));
    assert.equal(ready.healthy, true);
    assert.deepEqual(ready.body.pipeline, { ready: true, restarts: 0, stage: 'ready', loadMs: 4000, warmUpMs: 9000 });
  });

  it('a real pipeline process is "warming" (not ready, load time known) until its warm-up is over', async () => {
    let frozen: number | undefined;
    const worker = await PipelineWorker.launch({ modelDir: tinyModelDir, runtime, warmUp: { width: 64, height: 64, steps: 1 } }, (w) =>
      w.on('stage', (status: PipelineProcessStatus) => {
        // Hold the process as soon as it starts warming up, so the stage can be looked at.
        if (status.stage === 'warming' && w.pid) process.kill((frozen = w.pid), 'SIGSTOP');
      }),
    );
    try {
      await worker.whenLoaded();
      assert.ok(frozen, 'the process reported warming');
      const status = pipelineStatusOf(worker);
      assert.equal(status.ready, false);
      assert.equal(status.stage, 'warming');
      assert.ok(status.loadMs! > 0);
      assert.deepEqual(status.warmUpSize, { width: 64, height: 64 });
      const health = checkHealth(providers(status));
      assert.deepEqual([health.healthy, health.body.reason], [false, 'pipeline warming up at 64x64']);
      process.kill(frozen, 'SIGCONT');
      await worker.whenReady();
      const ready = pipelineStatusOf(worker);
      assert.deepEqual([ready.ready, ready.stage], [true, 'ready']);
      assert.ok(ready.warmUpMs! > 0);
    } finally {
      if (frozen) process.kill(frozen, 'SIGCONT');
      await worker.close();
    }
  });
});
