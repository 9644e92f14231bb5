/** Observability: Prometheus metrics, health and the optional HTTP endpoint that serves them. */
export { BoundedLabel, otherLabelValue } from './bounded-label.js';
export { checkHealth, type HealthBody, type HealthReport } from './health.js';
export { createRequestHandler, startHttpEndpoint, type HttpEndpoint, type HttpEndpointOptions, type HttpRoutes } from './http-endpoint.js';
export {
  LatentcordMetrics,
  gatewayStatuses,
  jobStages,
  metricsPrefix,
  type JobOutcomeLabel,
  type JobStage,
  type MetricsOptions,
} from './latentcord-metrics.js';
export {
  startObservability,
  watchJobRunner,
  watchPipelineRestarts,
  type JobEvents,
  type Observability,
  type ObservabilityOptions,
  type RestartEvents,
} from './observability.js';
export {
  pipelineStatusOf,
  type DiscordStatus,
  type PipelineStatus,
  type PipelineWorkerLike,
  type QueueStatus,
  type StatusProviders,
} from './status.js';
