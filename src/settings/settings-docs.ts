import { settingDefinition, settingKeys } from './setting-definitions.js';
import { expectedValueText } from './setting-values.js';

/**
 * The settings table as Markdown (one row per setting: name, group, allowed values, description), for
 * the README and `config/README.md`. A test keeps the copy in `config/README.md` identical.
 */
export function renderSettingsTable(): string {
  const rows = settingKeys.map((key) => {
    const definition = settingDefinition(key);
    const allowed = expectedValueText(definition) + (definition.limitedBy !== undefined ? `, within \`${definition.limitedBy}\`` : '');
    const group = `${definition.group}${definition.configOnly === true ? ' (config only)' : ''}`;
    return `| \`${key}\` | ${group} | ${allowed} | ${definition.description.replace(/\|/gu, '\\|')} |`;
  });
  return ['| Setting | Group | Allowed values | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
