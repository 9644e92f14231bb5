/** Start-up configuration: `config/default.json`, an optional user file and environment variables. */
export type { Config, Device, DeviceUnavailablePolicy, GraphOptimizationLevel, LogLevel } from './config-schema.js';
export { ConfigError, type ConfigProblem } from './config-error.js';
export { configForLog, loadConfig, packageDefaultsFile, type LoadConfigOptions } from './load-config.js';
export { configFileVariable, envNameOf, envVariables, type EnvVariable } from './environment.js';
export { configSchema, leafPaths, logLevels, schemaLeaves } from './config-schema.js';
export { renderEnvTable, renderKeysTable } from './config-docs.js';
