/**
 * Per-server settings: the declarative table, parsing and display of values, validation of a whole set,
 * and the option checks every command runs. Pure: no I/O.
 */
export * from './setting-definitions.js';
export * from './setting-values.js';
export * from './guild-settings.js';
export * from './generation-options.js';
export * from './banned-words.js';
export * from './access.js';
export { didYouMean, editDistance } from './did-you-mean.js';
export { renderSettingsTable } from './settings-docs.js';
export * from './preview-cadence.js';
