import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';

/**
 * The layering rules of the project, checked on the TypeScript sources: which modules may import what.
 * A source-level check (no extra tool): it reads every `import`/`export … from` of `cli.ts`, `src/` and
 * `commands/`.
 */

interface ModuleImports {
  /** Repository-relative path, e.g. `src/pipeline/stable-diffusion.ts`. */
  readonly file: string;
  /** Resolved repository-relative paths of local imports. */
  readonly local: string[];
  /** Package names (`sharp`, `node:fs`, `discord.js`, ...). */
  readonly packages: string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function readImports(path: string): ModuleImports {
  const text = readFileSync(path, 'utf8');
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1]!);
  const local: string[] = [];
  const packages: string[] = [];
  for (const specifier of specifiers) {
    if (specifier.startsWith('.')) local.push(relative(repoRoot, resolve(dirname(path), specifier.replace(/\.js$/, '.ts'))));
    else packages.push(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
  }
  return { file: relative(repoRoot, path), local, packages };
}

const modules: ModuleImports[] = [
  join(repoRoot, 'cli.ts'),
  ...sourceFiles(join(repoRoot, 'src')),
  ...sourceFiles(join(repoRoot, 'commands')),
].map(readImports);

const core = ['src/pipeline/', 'src/schedulers/', 'src/tokenizer/', 'src/random/', 'src/model/'];
/** Dependency-free modules every layer may use: failures and how quoted text is shortened. */
const shared = ['src/errors.ts', 'src/text.ts'];
const isCore = (file: string) => core.some((prefix) => file.startsWith(prefix)) || shared.includes(file);

function importersOf(packageName: string): string[] {
  return modules
    .filter((m) => m.packages.includes(packageName))
    .map((m) => m.file)
    .sort();
}

describe('import rules', () => {
  it('reads the whole source tree', () => {
    assert.ok(modules.length > 80, `${modules.length} modules`);
    assert.ok(modules.some((m) => m.file === 'src/pipeline/stable-diffusion.ts'));
  });

  it('the core (pipeline, schedulers, tokenizer, random, model) imports only the core and node: built-ins', () => {
    const offenders = modules
      .filter((m) => isCore(m.file))
      .flatMap((m) => [
        ...m.local.filter((target) => !isCore(target)).map((target) => `${m.file} → ${target}`),
        ...m.packages.filter((p) => !p.startsWith('node:')).map((p) => `${m.file} → ${p}`),
      ]);
    assert.deepEqual(offenders, []);
  });

  it('a scheduler never imports another scheduler', () => {
    const schedulerFiles = new Set(
      [
        'euler-discrete',
        'euler-ancestral-discrete',
        'ddim',
        'pndm',
        'lms-discrete',
        'dpm-solver-multistep',
        'unipc-multistep',
        'ddpm',
        'lcm',
      ].map((n) => `src/schedulers/${n}.ts`),
    );
    const offenders = modules
      .filter((m) => schedulerFiles.has(m.file))
      .flatMap((m) => m.local.filter((t) => schedulerFiles.has(t)).map((t) => `${m.file} → ${t}`));
    assert.deepEqual(offenders, []);
  });

  it('one module each talks to onnxruntime, sharp and SQLite', () => {
    assert.deepEqual(importersOf('onnxruntime-node'), ['src/runtime/onnx-session.ts']);
    assert.ok(
      importersOf('sharp').every((file) => file.startsWith('src/image/')),
      importersOf('sharp').join(', '),
    );
    assert.ok(
      importersOf('better-sqlite3').every((file) => file.startsWith('src/store/')),
      importersOf('better-sqlite3').join(', '),
    );
  });

  it('only src/scale talks to Redis (bullmq, ioredis)', () => {
    const outside = [...importersOf('bullmq'), ...importersOf('ioredis')].filter((file) => !file.startsWith('src/scale/'));
    assert.deepEqual(outside, []);
  });

  it('only the bot and the commands know discord.js', () => {
    const outside = importersOf('discord.js').filter((file) => !file.startsWith('src/bot/') && !file.startsWith('commands/'));
    assert.deepEqual(outside, []);
  });

  it('commands never reach into pipeline internals, the runtime or the pipeline process', () => {
    const offenders = modules
      .filter((m) => m.file.startsWith('commands/'))
      .flatMap((m) =>
        m.local.filter((t) => /^src\/(pipeline|runtime|worker|schedulers\/(?!index))/.test(t)).map((t) => `${m.file} → ${t}`),
      );
    assert.deepEqual(offenders, []);
  });

  it('src/bot never imports commands/ (the arrow runs from the commands to the bot, not back)', () => {
    const offenders = modules
      .filter((m) => m.file.startsWith('src/bot/'))
      .flatMap((m) => m.local.filter((t) => t.startsWith('commands/') || t === 'src/app.ts').map((t) => `${m.file} → ${t}`));
    assert.deepEqual(offenders, []);
  });

  it('only the composition root (src/app.ts) and the command line wire the command list in', () => {
    const offenders = modules
      .filter((m) => m.file.startsWith('src/') && m.file !== 'src/app.ts' && !m.file.startsWith('src/cli/'))
      .flatMap((m) => m.local.filter((t) => t.startsWith('commands/')).map((t) => `${m.file} → ${t}`));
    assert.deepEqual(offenders, []);
  });

  it('only the job runner drives the queue; everyone else uses the runner', () => {
    const offenders = modules
      .filter((m) => !m.file.startsWith('src/jobs/') && !m.file.startsWith('src/queue/'))
      .flatMap((m) => m.local.filter((t) => t.startsWith('src/queue/')).map((t) => `${m.file} → ${t}`));
    assert.deepEqual(offenders, []);
  });

  it('has no import cycles', () => {
    const graph = new Map(modules.map((m) => [m.file, m.local.filter((t) => t.endsWith('.ts'))]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    assert.deepEqual(cycles, []);
  });
});
