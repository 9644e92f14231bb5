import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { readPngText } from '../../src/image/index.js';
import { fixturePath, loadJsonFixture, repoRoot, tinyModelDir } from '../helpers/fixtures.js';
import { makeVariantModelFolder } from '../support/onnx/model-folder.js';
import { writeSafetyChecker } from '../support/onnx/safety-checker-graphs.js';

const run = promisify(execFile);

interface WeightedCase {
  id: string;
  params: {
    prompt: string;
    negative_prompt: string;
    num_inference_steps: number;
    guidance_scale: number;
    width: number;
    height: number;
    seed: number;
    strength?: number;
  };
  output_png: string;
}

/** A PNG's pixels as RGB bytes (sharp's file loaders are blocked in this process: read the bytes first). */
async function rgbOf(png: Buffer | string): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp(typeof png === 'string' ? await readFile(png) : png)
      .removeAlpha()
      .raw()
      .toBuffer(),
  );
}
const cli = join(repoRoot, 'dist', 'cli.js');

/** Runs the real CLI as a child process (not a TTY), without the user's environment leaking in. */
async function latentcord(
  args: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: cwd,
    LATENTCORD_MODEL_DIR: tinyModelDir,
    LATENTCORD_DATA_DIR: join(cwd, 'data'),
    ...extraEnv,
  };
  try {
    // The timeout only ends a CLI that hangs (as it did on a FIFO); every case here finishes in seconds.
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd, env, maxBuffer: 16 << 20, timeout: 120_000 });
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

  it('tokenize --chunks prints the chunks, multipliers and token count exactly as A1111 forms them', async () => {
    const cases = loadJsonFixture<{
      cases: { id: string; prompt: string; token_count: number; chunks: { tokens: number[]; multipliers: number[] }[] }[];
    }>('prompt-weighting-cases.json').cases;
    for (const id of ['A15-100-tokens-commas', 'A16-194-tokens-commas', 'A18-emoji-non-ascii', 'A21-leading-trailing-break']) {
      const golden = cases.find((c) => c.id === id)!;
      const { code, stdout, stderr } = await latentcord(['tokenize', golden.prompt, '--chunks'], dir);
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), {
        tokenCount: golden.token_count,
        chunks: golden.chunks.map((chunk) => ({ ids: chunk.tokens, multipliers: chunk.multipliers })),
      });
      assert.equal(stderr, '', 'under the default limit');
    }
    const literal = await latentcord(['tokenize', 'a (red:1.5) fox', '--chunks', '--emphasis', 'off'], dir);
    const plain = await latentcord(['tokenize', 'a (red:1.5) fox'], dir);
    const chunked = JSON.parse(literal.stdout);
    assert.deepEqual(chunked.chunks[0].ids, JSON.parse(plain.stdout), 'off reads the text as diffusers does');
    assert.ok(chunked.chunks[0].multipliers.every((m: number) => m === 1));
    const long = await latentcord(['tokenize', Array(230).fill('cat').join(' '), '--chunks'], dir);
    assert.equal(JSON.parse(long.stdout).chunks.length, 4, 'the whole prompt');
    assert.match(long.stderr, /^note: 230 tokens; latentcord reads 225 by default \(3 chunks\) and ignores: "cat cat cat cat cat"$/m);
    const bad = await latentcord(['tokenize', 'x', '--chunks', '--emphasis', 'strong'], dir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Expected `--emphasis` to be one of original, no-norm, off, got `strong`/);
  });

  for (const [id, extra] of [
    ['A7-weighted-long-euler-cfg', ['--scheduler', 'euler', '--emphasis', 'no-norm']],
    ['A8-weighted-both-dpmpp2m-karras', ['--scheduler', 'dpmpp-2m-karras', '--emphasis', 'no-norm']],
    ['A9-long-img2img-ddim', ['--scheduler', 'ddim', '--image', fixturePath('img2img-input-A.png')]],
  ] as const) {
    it(`${id}: imagine/remix with the weighted prompts give diffusers' picture and keep the prompts verbatim`, async () => {
      const golden = loadJsonFixture<{ cases: WeightedCase[] }>('pipeline-cases-weighted.json').cases.find((c) => c.id === id)!;
      const p = golden.params;
      const kind = p.strength !== undefined ? 'remix' : 'imagine';
      const args = [kind, p.prompt, '--negative', p.negative_prompt, '--steps', String(p.num_inference_steps)];
      args.push('--guidance', String(p.guidance_scale), '--seed', String(p.seed), '--out', `${id}.png`, ...extra);
      if (kind === 'imagine') args.push('--width', String(p.width), '--height', String(p.height));
      else args.push('--strength', String(p.strength));
      const { code, stderr } = await latentcord(args, dir);
      assert.equal(code, 0, stderr);
      const png = await readFile(join(dir, `${id}.png`));
      const [actual, expected] = await Promise.all([rgbOf(png), rgbOf(fixturePath(golden.output_png))]);
      let worst = 0;
      let total = 0;
      for (let i = 0; i < expected!.length; i++) {
        const d = Math.abs(actual![i]! - expected![i]!);
        worst = Math.max(worst, d);
        total += d;
      }
      assert.ok(worst <= 1 && total / expected!.length <= 2e-3, `PNG differs: max ${worst}, mean ${total / expected!.length}`);
      const parameters = readPngText(png)['parameters']!;
      const lines = parameters.split('\n');
      assert.equal(lines[0], p.prompt, 'the prompt verbatim, brackets and weights included');
      assert.equal(lines[1], p.negative_prompt ? `Negative prompt: ${p.negative_prompt}` : lines[1]);
      if (extra.includes('no-norm')) assert.match(parameters, /, RNG: CPU, Emphasis: No norm$/);
      else assert.doesNotMatch(parameters, /Emphasis/, 'the default mode is not recorded');
    });
  }

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
      'a running dog\nNegative prompt: blur\nSteps: 3, Sampler: Euler, CFG scale: 7.5, Seed: 42, Size: 96x64, Model: tiny-sd, RNG: ' +
        'CPU, Batch size: 2, Batch pos: 1',
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
    assert.equal(info.safetyChecker.present, false);
  });

  it('info says whether the model folder has a usable safety checker', async () => {
    const model = join(dir, 'with-checker');
    await cp(tinyModelDir, model, { recursive: true });
    const text = await latentcord(['info', '--model', model], dir);
    assert.match(text.stdout, /^safety checker\s+none: pictures are not checked/m);

    writeSafetyChecker(model, { flags: 'none', float16: true });
    const { code, stdout } = await latentcord(['info', '--model', model, '--json'], dir);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout).safetyChecker, {
      present: true,
      usable: true,
      modelFile: join(model, 'safety_checker', 'model.onnx'),
      floatType: 'float16',
    });
    const shown = await latentcord(['info', '--model', model], dir);
    assert.match(shown.stdout, /^safety checker\s+yes \(.*safety_checker\/model\.onnx, fp16\): pictures can be checked$/m);

    writeSafetyChecker(model, { flags: 'none', omitVerdict: true });
    const broken = await latentcord(['info', '--model', model], dir);
    assert.equal(broken.code, 0, broken.stderr);
    assert.match(broken.stdout, /^safety checker\s+present but not usable: .*has_nsfw_concepts/m);
  });

  it('info tells how long a prompt the model reads; what lies past 225 tokens is noted; a UNet with a fixed 77-token text axis refuses longer ones with the way out', async () => {
    const dynamic = await latentcord(['info'], dir);
    assert.equal(dynamic.code, 0, dynamic.stderr);
    assert.match(
      dynamic.stdout,
      /^prompt length {4}any number of 75-token chunks \(the UNet's text axis is dynamic\); 225 tokens read by default$/m,
    );
    assert.equal(JSON.parse((await latentcord(['info', '--json'], dir)).stdout).maxPromptChunks, null);

    const fixed = makeVariantModelFolder(join(dir, 'fixed-77'), { unet: 'fixedSequence' }).dir;
    const info = await latentcord(['info', '--model', fixed], dir);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^prompt length {4}at most 75 tokens \(1 chunk\): the UNet fixes encoder_hidden_states at 77 tokens; /m);
    assert.equal(JSON.parse((await latentcord(['info', '--model', fixed, '--json'], dir)).stdout).maxPromptChunks, 1);

    const overLimit = await latentcord(
      [
        'imagine',
        'a cat',
        '--negative',
        Array(230).fill('blur').join(' '),
        '--steps',
        '1',
        '--width',
        '64',
        '--height',
        '64',
        '--out',
        'over.png',
      ],
      dir,
    );
    assert.equal(overLimit.code, 0, overLimit.stderr);
    assert.match(
      overLimit.stderr,
      /^note: the negative prompt has 230 tokens, more than the 225 read; ignored: "blur blur blur blur blur"$/m,
    );
    assert.doesNotMatch(overLimit.stderr, /note: the prompt/);

    const common = ['--model', fixed, '--seed', '3', '--steps', '2', '--width', '64', '--height', '64'];
    const short = await latentcord(['imagine', 'a (running:1.2) dog', ...common, '--out', 'fixed-short.png'], dir);
    assert.equal(short.code, 0, short.stderr);
    const long = await latentcord(['imagine', 'a dog BREAK a cat', ...common, '--out', 'fixed-long.png'], dir);
    assert.equal(long.code, 2, long.stderr);
    assert.match(long.stderr, /reads exactly 77 text tokens/);
    assert.match(long.stderr, /prompt has 77 tokens in 2 chunks/);
    assert.match(long.stderr, /optimum-cli export onnx/);
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.startsWith('fixed-long')),
      [],
      'no picture and no partial file for the refused prompt',
    );
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

  it('--image must be a regular file: a FIFO and /dev/zero are refused at once, without reading', async () => {
    const fifo = join(dir, 'picture.fifo');
    await run('mkfifo', [fifo]);
    for (const [image, kind] of [
      [fifo, 'a named pipe'],
      ['/dev/zero', 'a device'],
      [dir, 'a folder'],
    ] as const) {
      const { code, stderr } = await latentcord(['remix', 'a dog', '--image', image, '--steps', '2'], dir);
      assert.equal(code, 2, `${image}: ${stderr}`);
      assert.match(stderr, new RegExp(`^error: The source image ${image} is ${kind}, not a file`, 'm'));
    }
  });

  it('--image larger than limits.maxAttachmentBytes is refused before it is read', async () => {
    const big = join(dir, 'big.png');
    await writeFile(big, await readFile(fixturePath('img2img-input-A.png')));
    await truncate(big, 4096 + 1);
    const configFile = join(dir, 'small-limit.json');
    await writeFile(configFile, JSON.stringify({ limits: { maxAttachmentBytes: 4096 } }));
    const { code, stderr } = await latentcord(['remix', 'a dog', '--image', big, '--steps', '2'], dir, { LATENTCORD_CONFIG: configFile });
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /^error: The source image .*big\.png is 4\.01 KiB \(4097 bytes\); the limit is 4\.00 KiB \(4096 bytes, limits\.maxAttachmentBytes\)\.$/m,
    );
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
