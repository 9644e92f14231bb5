import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { RuntimeOptions } from '../runtime/session-factory.js';
import type { EngineOptions } from './load-engine.js';

/** The onnxruntime settings of the configuration (the pipeline process's start data), optionally with the device overridden. */
export function runtimeOptionsFrom(config: Config, device?: 'cpu' | 'cuda'): Omit<RuntimeOptions, 'log'> {
  return {
    device: device ?? config.device,
    deviceId: config.deviceId,
    onDeviceUnavailable: config.onDeviceUnavailable,
    intraOpThreads: config.runtime.intraOpThreads,
    graphOptimizationLevel: config.runtime.graphOptimizationLevel,
    optimizedModelCacheDir: config.runtime.cacheOptimizedModels ? join(config.dataDir, 'cache', 'onnxruntime') : undefined,
  };
}

/** The decoder and batching settings of the configuration (the pipeline process's engine options). */
export function engineOptionsFrom(config: Config): EngineOptions {
  const { tinyDecoderDir, finalDecoder, vaeTiling, maxUnetBatch } = config.runtime;
  return { ...(tinyDecoderDir ? { tinyDecoderDir } : {}), finalDecoder, vaeTiling, maxUnetBatch };
}
