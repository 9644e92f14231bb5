import { envVariables, type EnvValueType } from './environment.js';

const readAs: Readonly<Record<EnvValueType, string>> = {
  string: 'text',
  integer: 'whole number',
  boolean: '`true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`)',
  autoOrBoolean: '`auto`, or `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`)',
  list: 'comma-separated list',
};

/** The environment variables as a Markdown table, for `config/README.md` (a test keeps the copy identical). */
export function renderEnvTable(): string {
  const rows = envVariables.map((variable) => {
    const also =
      variable.alsoSets !== undefined
        ? ` Also sets ${Object.entries(variable.alsoSets)
            .map(([path, value]) => `\`${path}\` = \`${JSON.stringify(value)}\``)
            .join(', ')}.`
        : '';
    return `| \`${variable.name}\` | \`${variable.path}\` | ${readAs[variable.type]} | ${variable.description}${also} |`;
  });
  return ['| Variable | Key | Read as | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
