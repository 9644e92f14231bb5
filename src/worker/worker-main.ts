/**
 * The pipeline thread. onnxruntime-node's `run()` blocks its JavaScript thread for the whole inference
 * (microsoft/onnxruntime#19611), so the models live here and the main thread keeps its event loop (and the
 * Discord heartbeat) free. One generation at a time; cancellation arrives through shared memory because
 * messages cannot be read while a model call is running.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BatchResult } from '../pipeline/stable-diffusion.js';
import { loadEngine, type Engine } from './load-engine.js';
import type { FromWorker, ToWorker, WorkerStartData } from './protocol.js';
import { serializeError } from './serialize-error.js';

const port = parentPort!;
const start = workerData as WorkerStartData;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function warmUp(engine: Engine): Promise<number | undefined> {
  if (!start.warmUp) return undefined;
  const started = performance.now();
  const { width, height, steps } = start.warmUp;
  const job = { prompt: '', guidanceScale: 7.5, seed: 0, numImages: 1 };
  // Two runs: onnxruntime's first two calls at a new shape are several times slower than later ones.
  for (let i = 0; i < 2; i++) {
    await engine.pipeline.generate(job, { width, height, numInferenceSteps: steps, scheduler: 'euler', rng: 'cpu' });
  }
  return performance.now() - started;
}

function transferablesOf(result: BatchResult): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const job of result.jobs) {
    for (const image of job.images) buffers.push(image.rgb.buffer as ArrayBuffer);
  }
  return buffers;
}

async function main(): Promise<void> {
  let engine: Engine;
  let warmUpMs: number | undefined;
  try {
    engine = await loadEngine(start.modelDir, {
      ...start.runtime,
      log: (level, message, details) => send({ type: 'log', level, message, ...(details ? { details } : {}) }),
    });
    warmUpMs = await warmUp(engine);
  } catch (error) {
    send({ type: 'startFailed', error: serializeError(error) });
    return;
  }
  const reason = engine.deviceFallbackReason;
  send({
    type: 'ready',
    description: engine.pipeline.describe(),
    device: engine.device,
    ...(reason ? { deviceFallbackReason: reason } : {}),
    loadMs: engine.loadMs,
    ...(warmUpMs !== undefined ? { warmUpMs } : {}),
  });

  // Jobs are handled strictly one after another even if the main thread sends the next one early.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    if (message.type !== 'generate') return;
    chain = chain.then(async () => {
      const cancelFlag = new Int32Array(message.cancelFlag);
      const signal = {
        get aborted() {
          return Atomics.load(cancelFlag, 0) === 1;
        },
      };
      try {
        const result = await engine.pipeline.generateBatch(message.jobs, message.parameters, {
          signal,
          keepIntermediates: message.keepIntermediates ?? false,
          onProgress: (progress) => send({ type: 'progress', id: message.id, progress }),
        });
        send({ type: 'result', id: message.id, result }, transferablesOf(result));
      } catch (error) {
        send({ type: 'error', id: message.id, error: serializeError(error) });
      }
    });
  });
}

void main();
