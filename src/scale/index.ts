/** Past one machine: remote workers on BullMQ/Redis (the only importers of bullmq and ioredis). */
export { ScaleKeys } from './keys.js';
export { modelIdentity, type ModelIdentity } from './model-identity.js';
export { backendDown, RedisBackend, type RedisBackendOptions } from './redis-backend.js';
export { bullConnection, createCommandClient, redactRedisUrl, redisOptionsFrom, redisPassword, withTimeout } from './redis-connection.js';
export { pngFieldsOf, RemoteWorker, type BatchEnd, type RemoteWorkerOptions } from './remote-worker.js';
export {
  errorFromReason,
  failureReason,
  parseRemoteBatch,
  wireVersion,
  workerLost,
  type RemoteBatch,
  type RemoteBatchResult,
} from './wire.js';
export { workerHealth, type WorkerHealthSources } from './worker-health.js';
export { WorkerMetrics, workerMetricsPrefix, type WorkerStatus } from './worker-metrics.js';
export { readBeats, writeBeat, type WorkerBeat } from './worker-registry.js';
