import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/fixtures.js';

const run = promisify(execFile);

interface PackageJson {
  engines: Record<string, string>;
  allowScripts: Record<string, boolean>;
  scripts: Record<string, string>;
}
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;

describe('npm configuration', () => {
  it('npm reads the project .npmrc without a warning (no key that "will stop working in the next major version")', async () => {
    const { stdout, stderr } = await run('npm', ['config', 'list'], {
      cwd: repoRoot,
      env: { ...process.env, npm_config_loglevel: 'warn' },
    });
    assert.doesNotMatch(stderr, /Unknown (project|user|env) config|will stop working/u, stderr);
    assert.match(stdout, /^engine-strict = true$/mu, 'the project .npmrc is read');
  });

  it("onnxruntime-node's install script (a CUDA download from NuGet) is denied, better-sqlite3's allowed", () => {
    assert.deepEqual(packageJson.allowScripts, { 'better-sqlite3': true, 'onnxruntime-node': false });
  });

  it('an npm that ignores allowScripts is refused (engines.npm with engine-strict)', () => {
    assert.equal(packageJson.engines['npm'], '>=11.17.0');
    assert.match(readFileSync(join(repoRoot, '.npmrc'), 'utf8'), /^engine-strict=true$/mu);
  });

  it('the CUDA provider has a script of its own that sets what the install script reads', () => {
    assert.equal(packageJson.scripts['setup:cuda'], 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js');
    const installUtils = readFileSync(join(repoRoot, 'node_modules', 'onnxruntime-node', 'script', 'install-utils.js'), 'utf8');
    assert.match(installUtils, /process\.env\.ONNXRUNTIME_NODE_INSTALL/u, 'onnxruntime-node still reads ONNXRUNTIME_NODE_INSTALL');
  });
});
