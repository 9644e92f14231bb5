import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { leafPaths, packageDefaultsFile, renderEnvTable, renderKeysTable } from '../../src/config/index.js';
import { renderSettingsTable } from '../../src/settings/index.js';

const readme = readFileSync(join(dirname(packageDefaultsFile()), 'README.md'), 'utf8');

function between(name: string): string {
  const start = readme.indexOf(`<!-- ${name}:start`);
  const end = readme.indexOf(`<!-- ${name}:end -->`);
  assert.ok(start >= 0 && end > start, `markers for ${name}`);
  return readme.slice(readme.indexOf('\n', start) + 1, end).trim();
}

describe('config/README.md', () => {
  it('documents every configuration key', () => {
    for (const path of leafPaths()) {
      if (path.startsWith('guildDefaults.')) continue;
      assert.ok(readme.includes(`| \`${path}\` |`), `${path} is not documented`);
    }
  });

  it('holds the current settings table', () => {
    assert.equal(between('settings-table'), renderSettingsTable());
  });

  it('holds the current keys table (schema and default.json)', () => {
    assert.equal(between('keys-table'), renderKeysTable(packageDefaultsFile()));
  });

  it('holds the current environment variable table', () => {
    assert.equal(between('env-table'), renderEnvTable());
  });
});
