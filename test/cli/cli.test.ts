import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readPngText } from '../../src/image/index.js';
import { fixturePath, loadJsonFixture, repoRoot, tinyModelDir } from '../helpers/fixtures.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli.js');

/** Runs the real CLI as a child process (not a TTY), without the user's environment leaking in. */
async function latentcord(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env['PATH'] ?? '', HOME: cwd, LATENTCORD_MODEL_DIR: tinyModelDir, LATENTCORD_DATA_DIR: join(cwd, 'data') };
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd, env, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('latentcord CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latentcord-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tokenize prints the 77 ids of the golden tokenizer case', async () => {
    const golden = loadJsonFixture<{ cases: { prompt: string; input_ids: number[] }[] }>('tokenizer-cases.json').cases[0]!;
    const { code, stdout } = await latentcord(['tokenize', golden.prompt], dir);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout), golden.input_ids);
  });

  it('imagine writes x-1.png and x-2.png with A1111 parameters and plain progress lines off a terminal', async () => {
    const { code, stdout, stderr } = await latentcord(
      [
        'imagine',
        'a running dog',
        '--width',
        '96',
        '--height',
        '64',
        '--steps',
        '3',
        '--guidance',
        '7.5',
        '--seed',
        '42',
        '--negative',
        'blur',
        '--scheduler',
        'euler',
        '--count',
        '2',
        '--out',
        'out/x.png',
      ],
      dir,
    );
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split('\n'), [join(dir, 'out', 'x-1.png'), join(dir, 'out', 'x-2.png')]);
    assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['x-1.png', 'x-2.png']);
    assert.match(stderr, /^imagine: 1\/3 steps \(/m);
    assert.match(stderr, /^imagine: 3\/3 steps \(/m);
    const text = readPngText(await readFile(join(dir, 'out', 'x-2.png')));
    assert.equal(
      text['parameters'],
      'a running dog\nNegative prompt: blur\nSteps: 3, Sampler: Euler, CFG scale: 7.5, Seed: 42, Size: 96x64, Model: tiny-sd, RNG: CPU, Batch size: 2, Batch pos: 1',
    );
  });

  it('remix reads an image, keeps its size and records the denoising strength', async () => {
    const { code, stdout, stderr } = await latentcord(
      [
        'remix',
        'a watercolor painting',
        '--image',
        fixturePath('img2img-input-A.png'),
        '--strength',
        '0.7',
        '--steps',
        '20',
        '--seed',
        '7',
        '--scheduler',
        'euler',
        '--out',
        'remix.png',
      ],
      dir,
    );
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), join(dir, 'remix.png'));
    assert.match(stderr, /^remix: 14\/14 steps/m, 'int(20 × 0.7) steps run');
    const text = readPngText(await readFile(join(dir, 'remix.png')))['parameters']!;
    assert.match(text, /Size: 96x64/);
    assert.match(text, /Denoising strength: 0\.7/);
  });

  it('info reports the detected layout', async () => {
    const { code, stdout } = await latentcord(['info', '--json'], dir);
    assert.equal(code, 0);
    const info = JSON.parse(stdout);
    assert.equal(info.textEncoderIdsType, 'int32');
    assert.deepEqual(info.timestep, { type: 'float32', shape: 'single' });
    assert.equal(info.vaeEncoder, 'parameters');
    assert.equal(info.sizeMultiple, 16);
    assert.equal(info.device, 'cpu');
  });

  it('an output path that cannot be written fails before any denoising and leaves no file behind', async () => {
    const work = join(dir, 'outputs');
    await mkdir(work);
    await writeFile(join(work, 'a-file'), 'not a folder');
    const underFile = await latentcord(
      ['imagine', 'a dog', '--steps', '2', '--width', '64', '--height', '64', '--out', 'a-file/x.png'],
      work,
    );
    assert.equal(underFile.code, 2, underFile.stderr);
    assert.match(
      underFile.stderr,
      new RegExp(`^error: Cannot write ${join(work, 'a-file', 'x.png')}: part of the path is a file, not a folder \\(EEXIST\\)\\.$`, 'm'),
    );
    assert.doesNotMatch(underFile.stderr, /steps \(/, 'nothing was generated');
    await mkdir(join(work, 'pictures'));
    const folder = await latentcord(['imagine', 'a dog', '--steps', '2', '--width', '64', '--height', '64', '--out', 'pictures'], work);
    assert.equal(folder.code, 2, folder.stderr);
    assert.match(folder.stderr, /Cannot write .*pictures: it is a folder; give a file name such as .*pictures\/picture\.png\./);
    assert.deepEqual((await readdir(work)).sort(), ['a-file', 'pictures']);
    assert.deepEqual(await readdir(join(work, 'pictures')), []);
  });

  it('bad options give a clear message and exit code 2, without a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['imagine', 'a dog', '--steps', '500'], /Expected `steps` to be an integer from 1 to 50/],
      [['imagine', 'a dog', '--width', '100', '--height', '64'], /Expected `width` to be a multiple of 8/],
      [
        ['imagine', 'a dog', '--width', '72', '--height', '64', '--steps', '2'],
        /Expected `width` to be a positive multiple of 16 for this model, got `72`/,
      ],
      [['imagine', 'a dog', '--scheduler', 'nope'], /scheduler/],
      [['imagine', 'a dog', '--rng', 'gpu'], /Expected `--rng` to be cpu or philox/],
      [['imagine', 'a dog', '--model', join(dir, 'missing')], /does not exist/],
      [['remix', 'a dog'], /remix needs --image FILE/],
      [['remix', 'a dog', '--image', join(dir, 'nothing.png')], /Cannot read the source image/],
      [['imagine', 'a dog', '--bogus'], /Unknown option '--bogus'/],
      [['bot'], /No bot token: set DISCORD_TOKEN/],
      [['frobnicate'], /Unknown command `frobnicate`/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await latentcord(args, dir);
      assert.equal(code, 2, `${args.join(' ')} → ${stderr}`);
      assert.match(stderr, message, args.join(' '));
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
