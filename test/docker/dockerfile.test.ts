import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/fixtures.js';
import {
  findStage,
  parseDockerfile,
  parseImageReference,
  parseKeyValues,
  runCommands,
  splitFlags,
  stagesBuiltFor,
  type Instruction,
  type Stage,
} from './dockerfile-model.js';

const run = promisify(execFile);
const dockerfileText = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const model = parseDockerfile(dockerfileText);
const linter = join(repoRoot, 'test', 'docker', 'lint-dockerfile.mjs');

function stage(name: string): Stage {
  const found = model.stages.find((candidate) => candidate.name === name);
  assert.ok(found, `the Dockerfile has a stage named ${name}`);
  return found;
}

function instructions(of: Stage, keyword: string): Instruction[] {
  return of.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** The value an `ENV` of the stage (or of a stage it is built `FROM`) gives the variable, last one winning. */
function envValue(of: Stage, name: string): string | undefined {
  let value: string | undefined;
  const base = model.stages.find((candidate) => candidate.index < of.index && candidate.name === of.base.toLowerCase());
  if (base) value = envValue(base, name);
  for (const env of instructions(of, 'ENV')) value = parseKeyValues(env.args).get(name) ?? value;
  return value;
}

function jsonArray(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  assert.ok(Array.isArray(parsed) && parsed.every((item) => typeof item === 'string'), `exec form: ${args}`);
  return parsed as string[];
}

/** npm invocations of a stage's RUN instructions, with any leading `NAME=value` assignments removed. */
function npmCommands(of: Stage): string[] {
  return instructions(of, 'RUN')
    .flatMap((instruction) => runCommands(instruction.args))
    .map((command) => command.replace(/^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)+/u, ''))
    .filter((command) => /^npm(?:\s|$)/u.test(command));
}

const finalTargets = ['cuda', 'cpu'] as const;

describe('Dockerfile lint (dockerfile-utils via npm run lint:docker)', () => {
  test('the Dockerfile has no findings', async () => {
    const { stdout, stderr } = await run(process.execPath, [linter, join(repoRoot, 'Dockerfile')], { cwd: repoRoot });
    assert.equal(stdout, '');
    assert.equal(stderr, '');
  });

  test('the linter reports a broken Dockerfile and fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latentcord-docker-lint-'));
    try {
      const broken = join(dir, 'Dockerfile');
      writeFileSync(
        broken,
        [
          'FROM node:20.20.2-bookworm-slim AS build',
          'FROM node:20.20.2-bookworm-slim AS build',
          'workdir app',
          'HEALTHCHECK --interval=30 CMD ["true"]',
          'COPY --chwon=1:1 a b',
          '',
        ].join('\n'),
      );
      const failure = await run(process.execPath, [linter, broken], { cwd: dir }).then(
        () => assert.fail('the linter accepted a broken Dockerfile'),
        (error: unknown) => error as { code: number; stdout: string },
      );
      assert.equal(failure.code, 1);
      const lines = failure.stdout.trim().split('\n');
      assert.match(failure.stdout, /Dockerfile:2:\d+: duplicate name build/u);
      assert.match(failure.stdout, /Dockerfile:3:1: Instructions should be written in uppercase letters/u);
      assert.match(failure.stdout, /Dockerfile:3:\d+: WORKDIR paths should be absolute/u);
      assert.match(failure.stdout, /Dockerfile:4:\d+: .*missing unit in duration 30/u);
      assert.match(failure.stdout, /Dockerfile:5:\d+: Unknown flag: chwon/u);
      assert.ok(
        lines.every((line) => /^Dockerfile:\d+:\d+: /u.test(line)),
        failure.stdout,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('package.json runs the same linter as lint:docker', () => {
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.equal(scripts['lint:docker'], 'node test/docker/lint-dockerfile.mjs Dockerfile');
  });
});

describe('Dockerfile structure', () => {
  test('final targets cuda and cpu exist, and cuda is the default (last) stage', () => {
    for (const target of finalTargets) stage(target);
    assert.equal(model.stages.at(-1)?.name, 'cuda');
  });

  test('the build stage runs exactly `npm ci` and `npm run build`, then prunes dev dependencies', () => {
    const build = stage('build');
    // Apart from updating npm itself to the version the project is developed with.
    const commands = npmCommands(build).filter((command) => !/^npm install --global "?npm@/u.test(command));
    assert.deepEqual(commands, ['npm ci', 'npm run build', 'npm prune --omit=dev']);
    // Sources are copied after `npm ci`, so that a source change reuses the dependency layer.
    const ciLine = instructions(build, 'RUN').find((instruction) => runCommands(instruction.args).includes('npm ci'))!.line;
    const copies = instructions(build, 'COPY').map((copy) => ({
      line: copy.line,
      sources: splitFlags(copy.args).rest.split(/\s+/u).slice(0, -1),
    }));
    const manifestCopy = copies.find((copy) => copy.sources.includes('package-lock.json'));
    assert.ok(manifestCopy && manifestCopy.line < ciLine, 'package*.json are copied before npm ci');
    for (const copy of copies.filter((c) => c.sources.includes('src') || c.sources.includes('tsconfig.json'))) {
      assert.ok(copy.line > ciLine, `sources are copied after npm ci (line ${copy.line})`);
    }
  });

  test('CI builds with the same commands as the image, when .ci/run exists', (t) => {
    const ciRun = join(repoRoot, '.ci', 'run');
    if (!existsSync(ciRun)) {
      t.skip('.ci/run does not exist yet');
      return;
    }
    const text = readFileSync(ciRun, 'utf8');
    assert.match(text, /(^|[\s;&|(])npm ci(?=$|[\s;&|)])/mu, '.ci/run installs with npm ci');
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const buildsDirectly = /(^|[\s;&|(])npm run build(?=$|[\s;&|)])/mu.test(text);
    const buildsThroughTest =
      /(^|[\s;&|(])npm (?:run )?test(?=$|[\s;&|)])/mu.test(text) && /^npm run build(\s|$)/u.test(scripts['test'] ?? '');
    assert.ok(buildsDirectly || buildsThroughTest, '.ci/run builds with npm run build (directly or through npm test)');
  });

  test('the build context holds what the build stage copies, and no secrets or build output', async () => {
    const { dockerignore } = await import('./dockerignore.js');
    const sent = dockerignore(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
    for (const copy of instructions(stage('build'), 'COPY')) {
      const { flags, rest } = splitFlags(copy.args);
      if (flags.has('from')) continue;
      for (const source of rest.split(/\s+/u).slice(0, -1)) {
        assert.ok(existsSync(join(repoRoot, source)), `${source} exists in the repository`);
        assert.ok(sent(source), `${source} is in the build context`);
      }
    }
    for (const needed of ['src/cli/main.ts', 'config/default.json', 'commands/index.ts', 'cli.ts', '.npmrc']) {
      assert.ok(sent(needed), `${needed} is in the build context`);
    }
    for (const kept of [
      '.env',
      '.git/config',
      'node_modules/sharp/package.json',
      'dist/cli.js',
      'data/latentcord.sqlite',
      'models/x/unet/model.onnx',
      'config/local.json',
      'test/fixtures/SOURCE-README.md',
      '.build-docker/cli.js',
    ]) {
      assert.ok(!sent(kept), `${kept} stays out of the build context`);
    }
  });

  test('the build compiles every source folder the application needs', () => {
    const tsconfig = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8')) as { include: string[] };
    const copied = new Set(instructions(stage('build'), 'COPY').flatMap((copy) => splitFlags(copy.args).rest.split(/\s+/u).slice(0, -1)));
    // Tests and benchmarks are compiled by CI, not shipped.
    const application = tsconfig.include.filter((entry) => entry !== 'test' && entry !== 'bench');
    for (const entry of application) assert.ok(copied.has(entry), `the build stage copies ${entry} (tsconfig include)`);
    assert.ok(copied.has('tsconfig.json'));
  });

  for (const target of finalTargets) {
    describe(`target ${target}`, () => {
      test('runs as a non-root user it creates', () => {
        const users = instructions(stage(target), 'USER');
        const user = users.at(-1)?.args.trim();
        assert.ok(user, 'has a USER instruction');
        const name = user.split(':')[0]!;
        assert.notEqual(name, 'root');
        assert.notEqual(name, '0');
        const created = instructions(stage(target), 'RUN').some((instruction) =>
          new RegExp(`useradd\\b.*\\b${name}\\b`, 'u').test(instruction.args),
        );
        assert.ok(created, `user ${name} is created with useradd in the stage`);
      });

      test('works in /app with /data and /models as volumes and the data folder set', () => {
        assert.equal(instructions(stage(target), 'WORKDIR').at(-1)?.args.trim(), '/app');
        const volumes = instructions(stage(target), 'VOLUME').flatMap((volume) => jsonArray(volume.args));
        assert.deepEqual([...volumes].sort(), ['/data', '/models']);
        assert.equal(envValue(stage(target), 'LATENTCORD_DATA_DIR'), '/data');
        assert.equal(envValue(stage(target), 'NODE_ENV'), 'production');
      });

      test(`sets LATENTCORD_DEVICE=${target}`, () => {
        assert.equal(envValue(stage(target), 'LATENTCORD_DEVICE'), target);
      });

      test('starts the bot under tini, stops with SIGTERM', () => {
        const entrypoint = jsonArray(instructions(stage(target), 'ENTRYPOINT').at(-1)?.args ?? 'null');
        const cmd = jsonArray(instructions(stage(target), 'CMD').at(-1)?.args ?? 'null');
        assert.match(entrypoint[0] ?? '', /\/tini$/u);
        assert.equal(entrypoint[1], '--');
        const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
          bin: Record<string, string>;
          scripts: Record<string, string>;
        };
        assert.deepEqual(entrypoint.slice(2), ['node', `/app/${packageJson.bin['latentcord']}`]);
        assert.deepEqual(cmd, ['bot']);
        assert.equal(packageJson.scripts['start'], 'node dist/cli.js bot', 'npm start runs the same command');
        assert.equal(instructions(stage(target), 'STOPSIGNAL').at(-1)?.args.trim(), 'SIGTERM');
        // tini itself must be in the image: copied in or installed.
        const hasTini = instructions(stage(target), 'COPY').some((copy) => copy.args.trim().endsWith(entrypoint[0]!));
        assert.ok(hasTini, `${entrypoint[0]} is copied into the image`);
      });

      test('ships package.json, config, dist and node_modules from the build', () => {
        const destinations = instructions(stage(target), 'COPY')
          .filter((copy) => splitFlags(copy.args).flags.has('from'))
          .map((copy) => splitFlags(copy.args).rest.split(/\s+/u));
        for (const needed of ['package.json', 'config', 'dist', 'node_modules']) {
          assert.ok(
            destinations.some((parts) => parts[0] === `/app/${needed}`),
            `copies /app/${needed}`,
          );
        }
      });

      test('has OCI labels', () => {
        const labels = new Map(instructions(stage(target), 'LABEL').flatMap((label) => [...parseKeyValues(label.args)]));
        for (const key of ['org.opencontainers.image.title', 'org.opencontainers.image.description', 'org.opencontainers.image.licenses']) {
          assert.ok(labels.get(key), `label ${key}`);
        }
        const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { license: string };
        assert.equal(labels.get('org.opencontainers.image.licenses'), packageJson.license);
      });

      test('has a HEALTHCHECK against /healthz on 127.0.0.1 with the endpoint turned on', () => {
        const checks = instructions(stage(target), 'HEALTHCHECK');
        assert.equal(checks.length, 1);
        const { flags, rest } = splitFlags(checks[0]!.args);
        assert.ok(flags.has('interval') && flags.has('timeout') && flags.has('start-period') && flags.has('retries'));
        assert.match(rest, /^CMD \[/u);
        const command = jsonArray(rest.slice('CMD'.length).trim());
        assert.match(command.join(' '), /127\.0\.0\.1/u);
        assert.match(command.join(' '), /\/healthz/u);
        assert.equal(envValue(stage(target), 'LATENTCORD_HTTP_PORT'), '9464');
      });
    });
  }

  test('base images are pinned to version tags, glibc-based, and stage references resolve', () => {
    const external = model.stages.filter((s) => findStage(model, s.base, s.index) === undefined);
    assert.ok(external.length >= 2);
    for (const s of external) {
      const reference = parseImageReference(s.base);
      assert.ok(reference.repository !== '', `stage ${s.name ?? s.index}: base resolves (${s.baseWritten})`);
      assert.ok(reference.tag, `${s.base} has a tag`);
      assert.notEqual(reference.tag, 'latest');
      assert.match(reference.tag, /\d+\.\d+/u, `${s.base} has a version tag`);
      assert.doesNotMatch(s.base, /alpine|musl/iu, 'onnxruntime-node needs glibc');
    }
    for (const s of model.stages) {
      for (const copy of instructions(s, 'COPY')) {
        const from = splitFlags(copy.args).flags.get('from');
        if (from === undefined) continue;
        const source = model.stages.find((o) => o.name === from.toLowerCase());
        assert.ok(source && source.index < s.index, `line ${copy.line}: COPY --from=${from} names an earlier stage`);
      }
    }
  });

  test('the cuda base is a CUDA 12 + cuDNN runtime image and Node is version 24 (LTS) from the node image', () => {
    assert.match(stage('cuda').base, /^nvidia\/cuda:12\.\d+(?:\.\d+)?-cudnn-runtime-ubuntu\d\d\.\d\d$/u);
    const nodeImage = parseImageReference(stage('cpu').base);
    assert.equal(nodeImage.repository, 'node');
    const [major] = (nodeImage.tag ?? '').split(/[.-]/u).map(Number) as [number];
    assert.equal(major, 24, 'Node 24 LTS (Node 20 is past its end of life)');
    const engines = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }).engines;
    assert.match(engines.node, />=22\b/u, 'package.json engines admit Node 24');
    assert.equal(stage('build').base, stage('cpu').base, 'built on the same Node and Debian as the cpu image');
    const copiesNode = instructions(stage('cuda'), 'COPY').some((copy) =>
      /--from=build\s+\/usr\/local\/bin\/node\s+\/usr\/local\/bin\/node$/u.test(copy.args),
    );
    assert.ok(copiesNode, 'the cuda image takes node from the build stage');
  });

  test('ONNXRUNTIME_NODE_INSTALL=cuda12 is set only on the cuda path', () => {
    const cudaPath = stagesBuiltFor(model, 'cuda');
    const cpuPath = stagesBuiltFor(model, 'cpu');
    const setters = model.stages.filter((s) =>
      s.instructions.some((instruction) => /\bONNXRUNTIME_NODE_INSTALL(?:_CUDA)?\b/u.test(instruction.args)),
    );
    assert.ok(setters.length > 0, 'some stage installs the CUDA provider');
    for (const s of setters) {
      assert.ok(cudaPath.has(s), `stage ${s.name} is built for the cuda target`);
      assert.ok(!cpuPath.has(s), `stage ${s.name} is not built for the cpu target`);
      for (const instruction of s.instructions.filter((i) => /\bONNXRUNTIME_NODE_INSTALL\b/u.test(i.args))) {
        assert.match(instruction.args, /\bONNXRUNTIME_NODE_INSTALL=cuda12\b/u);
      }
    }
    // Everywhere else npm does not run the script at all (package.json's allowScripts), so it runs by hand here.
    const allowScripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> })
      .allowScripts;
    assert.equal(allowScripts['onnxruntime-node'], false, 'npm never runs the download');
    const runsScript = [...cudaPath].some((s) =>
      s.instructions.some((i) =>
        /\bONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js\b/u.test(i.args),
      ),
    );
    assert.ok(runsScript, 'the cuda path runs the install script itself (npm rebuild would skip a denied script)');
    // The provider library must really be there after the install.
    const checked = [...cudaPath].some((s) => s.instructions.some((i) => /test -f \S*libonnxruntime_providers_cuda\.so/u.test(i.args)));
    assert.ok(checked, 'the cuda path checks that libonnxruntime_providers_cuda.so was installed');
    assert.ok(!stagesBuiltFor(model, 'cpu').has(stage('cuda-modules')));
  });
});

describe('HEALTHCHECK command', () => {
  let server: Server;
  let port = 0;
  let status = 200;
  const paths: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      paths.push(request.url ?? '');
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'not ready');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Runs the cpu target's HEALTHCHECK CMD as Docker would (exec form), with the port in the environment. */
  async function healthcheck(env: NodeJS.ProcessEnv): Promise<number> {
    const { rest } = splitFlags(instructions(stage('cpu'), 'HEALTHCHECK')[0]!.args);
    const [program, ...args] = jsonArray(rest.slice('CMD'.length).trim());
    assert.equal(program, 'node');
    return run(process.execPath, args, { env: { PATH: process.env['PATH'], ...env }, timeout: 20_000 }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? -1,
    );
  }

  test('both targets use the same command', () => {
    assert.equal(instructions(stage('cuda'), 'HEALTHCHECK')[0]?.args, instructions(stage('cpu'), 'HEALTHCHECK')[0]?.args);
  });

  test('exits 0 when /healthz answers 200', async () => {
    status = 200;
    paths.length = 0;
    assert.equal(await healthcheck({ LATENTCORD_HTTP_PORT: String(port) }), 0);
    assert.deepEqual(paths, ['/healthz']);
  });

  test('exits 1 when /healthz answers 503', async () => {
    status = 503;
    assert.equal(await healthcheck({ LATENTCORD_HTTP_PORT: String(port) }), 1);
  });

  test('exits 1 when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.equal(await healthcheck({ LATENTCORD_HTTP_PORT: String(freePort) }), 1);
  });
});
