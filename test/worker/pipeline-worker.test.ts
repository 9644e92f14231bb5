import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import type { BatchParameters, GenerationJob } from '../../src/pipeline/stable-diffusion.js';
import { defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { PipelineWorker } from '../../src/worker/pipeline-worker.js';
import { tinyModelDir } from '../helpers/fixtures.js';

const job: GenerationJob = { prompt: 'a running dog', guidanceScale: 7.5, seed: 42, numImages: 1 };
const parameters: BatchParameters = { width: 64, height: 64, numInferenceSteps: 8, scheduler: 'euler', rng: 'cpu' };
const { log: _log, ...runtime } = defaultRuntimeOptions;

describe('PipelineWorker (pipeline in a child process)', () => {
  let worker: PipelineWorker;
  before(async () => {
    worker = await PipelineWorker.start({ modelDir: tinyModelDir, runtime, jobTimeoutMs: 60_000 });
  });
  after(async () => {
    await worker.close();
  });

  it('reports what it loaded and runs a job with progress events (first and last step always, at most one per 100 ms between)', async () => {
    assert.equal(worker.info.device, 'cpu');
    assert.equal(worker.info.description.sizeMultiple, 16);
    const steps: number[] = [];
    const result = await worker.run([job], parameters, { onProgress: (p) => steps.push(p.step) });
    assert.equal(steps[0], 1);
    assert.equal(steps.at(-1), 8);
    assert.ok(
      steps.every((step, i) => i === 0 || step > steps[i - 1]!),
      `increasing: ${steps.join(',')}`,
    );
    const image = result.jobs[0]!.images[0]!;
    assert.equal(image.rgb.length, 64 * 64 * 3);
    assert.equal(result.timings.steps, 8);
    assert.ok(result.timings.unetMs > 0 && result.timings.unetMs <= result.timings.denoiseMs);
  });

  it('splits a batch whose prompts differ in chunk count into UNet batches; every job still gets its solo pictures', async () => {
    const jobs: GenerationJob[] = [
      { ...job, prompt: 'a red fox BREAK deep snow', seed: 1 },
      { ...job, prompt: 'a (red:1.3) fox', seed: 2, numImages: 2 },
      { ...job, prompt: 'a blue fox BREAK ice', seed: 3 },
    ];
    const steps: number[] = [];
    const batch = await worker.run(jobs, parameters, { onProgress: (p) => steps.push(p.step) });
    assert.equal(steps.at(-1), 16, 'two groups of 8 steps, counted together');
    assert.ok(
      steps.every((step, i) => i === 0 || step > steps[i - 1]!),
      `increasing: ${steps.join(',')}`,
    );
    assert.equal(batch.timings.steps, 16);
    for (const [j, alone] of jobs.entries()) {
      const single = await worker.run([alone], parameters);
      assert.deepEqual(
        batch.jobs[j]!.images.map((i) => i.rgb),
        single.jobs[0]!.images.map((i) => i.rgb),
        `job ${j}`,
      );
      assert.equal(batch.jobs[j]!.prompt.chunkCount, alone.prompt.includes('BREAK') ? 2 : 1);
    }
  });

  it('gives the same image as an identical earlier run (deterministic across the process boundary)', async () => {
    const a = await worker.run([job], parameters);
    const b = await worker.run([job], parameters);
    assert.deepEqual(a.jobs[0]!.images[0]!.rgb, b.jobs[0]!.images[0]!.rgb);
  });

  it('cancels between steps through the AbortSignal, then serves the next job', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    await assert.rejects(
      worker.run(
        [job],
        { ...parameters, numInferenceSteps: 30 },
        {
          signal: controller.signal,
          onProgress: (p) => {
            seen.push(p.step);
            if (p.step === 1) controller.abort();
          },
        },
      ),
      (error: unknown) => isUserError(error) && error.identifier === 'job.cancelled',
    );
    assert.ok(seen.length < 30, `stopped after ${seen.length} steps`);
    const next = await worker.run([job], parameters);
    assert.equal(next.jobs[0]!.images.length, 1);
  });

  it('reports user errors from the pipeline as UserErrors', async () => {
    await assert.rejects(
      worker.run([job], { ...parameters, width: 72 }),
      (error: unknown) => isUserError(error) && error.identifier === 'options.width',
    );
  });

  it('survives the process being killed mid-job: the job fails clearly, the process restarts, the next job runs', async () => {
    const restarts = worker.restarts;
    const running = worker.run(
      [job],
      { ...parameters, numInferenceSteps: 200 },
      {
        onProgress: (p) => {
          if (p.step === 1) void worker.kill();
        },
      },
    );
    await assert.rejects(running, (error: unknown) => isUserError(error) && error.identifier === 'worker.crashed');
    const next = await worker.run([job], parameters);
    assert.equal(next.jobs[0]!.images.length, 1);
    assert.equal(worker.restarts, restarts + 1);
  });
});

describe('PipelineWorker timeouts and start-up failures', () => {
  it('stops a job that runs past the timeout, replaces the process and serves the next job', async () => {
    const worker = await PipelineWorker.start({ modelDir: tinyModelDir, runtime, jobTimeoutMs: 400 });
    try {
      await assert.rejects(
        worker.run([job], { ...parameters, numInferenceSteps: 1000, width: 256, height: 256 }),
        (error: unknown) => isUserError(error) && error.identifier === 'worker.timeout',
      );
      assert.equal(worker.restarts, 1);
      const next = await worker.run([job], { ...parameters, numInferenceSteps: 1 });
      assert.equal(next.jobs[0]!.images.length, 1);
    } finally {
      await worker.close();
    }
  });

  it('runs onnxruntime with its telemetry off (nothing written to the home folder)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'latentcord-home-'));
    const savedHome = process.env['HOME'];
    process.env['HOME'] = home;
    try {
      const worker = await PipelineWorker.start({ modelDir: tinyModelDir, runtime });
      try {
        await worker.run([job], { ...parameters, numInferenceSteps: 1 });
      } finally {
        await worker.close();
      }
      assert.deepEqual(readdirSync(home), []);
    } finally {
      process.env['HOME'] = savedHome;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('fails to start with the model error when the folder is missing', async () => {
    await assert.rejects(
      PipelineWorker.start({ modelDir: '/nonexistent/model', runtime }),
      (error: unknown) => isUserError(error) && error.identifier === 'model.folderMissing' && /\/nonexistent\/model/.test(error.message),
    );
  });
});
