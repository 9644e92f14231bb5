import { readFileSync } from 'node:fs';
import { configSchema, schemaLeaves, type EnvValueType } from './config-schema.js';
import { envVariables } from './environment.js';

const readAs: Readonly<Record<EnvValueType, string>> = {
  string: 'text',
  integer: 'whole number',
  number: 'number',
  boolean: '`true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`)',
  autoOrBoolean: '`auto`, or `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`)',
  list: 'comma-separated list',
};

/** The environment variables as a Markdown table, for `config/README.md` (a test keeps the copy identical). */
export function renderEnvTable(): string {
  const rows = envVariables.map((variable) => {
    const also =
      variable.alsoSets !== undefined
        ? `; also sets ${Object.entries(variable.alsoSets)
            .map(([path, value]) => `\`${path}\` = \`${JSON.stringify(value)}\``)
            .join(', ')}.`
        : '';
    return `| \`${variable.name}\` | \`${variable.path}\` | ${readAs[variable.type]}${also} |`;
  });
  return ['| Variable | Key | Read as |', '| --- | --- | --- |', ...rows].join('\n');
}

function valueAt(tree: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], tree);
}

/**
 * The configuration keys as a Markdown table (key, default, allowed values, meaning), from the schema and the
 * defaults file, for `config/README.md` (a test keeps the copy identical). Per-server settings have their own
 * table.
 */
export function renderKeysTable(defaultsFile: string): string {
  const defaults: unknown = JSON.parse(readFileSync(defaultsFile, 'utf8'));
  const rows = schemaLeaves(configSchema)
    .filter(({ path }) => !path.startsWith('guildDefaults.'))
    .map(({ path, spec }) => {
      const shown = JSON.stringify(valueAt(defaults, path)).replace(/,/gu, ', ').replace(/\|/gu, '\\|');
      return `| \`${path}\` | \`${shown}\` | ${spec.expected.replace(/\|/gu, '\\|')} | ${spec.description.replace(/\|/gu, '\\|')} |`;
    });
  return [
    '| Key | Default | Allowed | Meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '| `guildDefaults.*` | see below | see below | Per-server settings before any `/settings set`; also what applies in direct messages. |',
  ].join('\n');
}
