#!/usr/bin/env node
/**
 * `npm run lint:docker`: lints Dockerfiles with dockerfile-utils (the validator behind the VS Code Docker
 * language server), with every rule it can relax raised to an error, so that any finding fails.
 *
 * Usage: node test/docker/lint-dockerfile.mjs [FILE...]   (default: the repository's Dockerfile)
 * Prints one `file:line:column: message` line per finding; exit code 0 when clean, 1 on findings, 2 when a
 * file cannot be read. Plain JavaScript so that it runs without a TypeScript build.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** @type {typeof import('dockerfile-utils')} */
const dockerfileUtils = require('dockerfile-utils');

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every configurable rule of dockerfile-utils 0.16 as an error (its defaults make several of them warnings). */
const settings = {
  deprecatedMaintainer: dockerfileUtils.ValidationSeverity.ERROR,
  directiveCasing: dockerfileUtils.ValidationSeverity.ERROR,
  emptyContinuationLine: dockerfileUtils.ValidationSeverity.ERROR,
  instructionCasing: dockerfileUtils.ValidationSeverity.ERROR,
  instructionCmdMultiple: dockerfileUtils.ValidationSeverity.ERROR,
  instructionEntrypointMultiple: dockerfileUtils.ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: dockerfileUtils.ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: dockerfileUtils.ValidationSeverity.ERROR,
  instructionWorkdirRelative: dockerfileUtils.ValidationSeverity.ERROR,
};

const files = process.argv.length > 2 ? process.argv.slice(2) : [join(repoRoot, 'Dockerfile')];
let exitCode = 0;
for (const file of files) {
  let content;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    process.stderr.write(`${file}: cannot read: ${error instanceof Error ? error.message : String(error)}\n`);
    exitCode = 2;
    continue;
  }
  const shown = relative(process.cwd(), file) || file;
  const findings = dockerfileUtils
    .validate(content, settings)
    .sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  const lines = findings.map(({ range, message }) => `${shown}:${range.start.line + 1}:${range.start.character + 1}: ${message}\n`);
  if (lines.length > 0) process.stdout.write(lines.join(''));
  if (findings.length > 0 && exitCode === 0) exitCode = 1;
}
process.exitCode = exitCode;
