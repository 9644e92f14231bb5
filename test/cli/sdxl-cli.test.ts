import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, cpSync, ftruncateSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { readPngText } from '../../src/image/index.js';
import { fixturePath, loadJsonFixture, repoRoot, tinySdxlModelDir } from '../helpers/fixtures.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli.js');

interface SdxlCase {
  id: string;
  params: {
    prompt: string;
    negative_prompt: string | null;
    num_inference_steps: number;
    guidance_scale: number;
    width: number;
    height: number;
    seed: number;
    strength?: number;
  };
  output_png: string;
}
const cases = loadJsonFixture<{ cases: SdxlCase[] }>('pipeline-cases-sdxl.json').cases;

/** Runs the real CLI on the tiny SDXL folder as a child process (not a TTY), without the user's environment. */
async function latentcord(
  args: string[],
  cwd: string,
  modelDir = tinySdxlModelDir,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env['PATH'] ?? '', HOME: cwd, LATENTCORD_MODEL_DIR: modelDir, LATENTCORD_DATA_DIR: join(cwd, 'data') };
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd, env, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function rgbOf(png: Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(png).removeAlpha().raw().toBuffer());
}

describe('latentcord CLI with an SDXL folder', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latentcord-sdxl-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('info says what was detected: the family, both encoders and their hidden states, zeros, size, memory', async () => {
    const { code, stdout, stderr } = await latentcord(['info'], dir);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^family {11}Stable Diffusion XL \(model_index\.json names ORTStableDiffusionXLPipeline;/m);
    assert.match(stdout, /^text encoder 1 {3}hidden_states\.2, ids int32, pad id 49407, output float32$/m);
    assert.match(stdout, /^text encoder 2 {3}hidden_states\.3 \+ pooled text_embeds, ids int32, pad id 0, output float32$/m);
    assert.match(stdout, /^added conditions text_embeds \+ time_ids .*→ zeros \(force_zeros_for_empty_prompt\)$/m);
    assert.match(stdout, /^VAE scaling {6}0\.13025$/m);
    assert.match(stdout, /^sizes {12}multiples of 16, native 64x64; default 64x64 \(the UNet's sample_size 8 × VAE factor 8\)$/m);
    assert.match(stdout, /^memory {11}2\d\.\d MiB of graphs and weights; about 2\d\d MiB to run on the CPU$/m);
    const json = JSON.parse((await latentcord(['info', '--json'], dir)).stdout);
    assert.equal(json.family, 'stable-diffusion-xl');
    assert.equal(json.forceZerosForEmptyPrompt, true);
    assert.deepEqual(json.profile.size, { width: 64, height: 64, reason: "the UNet's sample_size 8 × VAE factor 8" });
  });

  for (const testCase of cases) {
    it(`${testCase.id}: imagine/remix draw diffusers' picture and record the parameters`, async () => {
      const p = testCase.params;
      const remix = p.strength !== undefined;
      const args = [
        remix ? 'remix' : 'imagine',
        p.prompt,
        '--steps',
        String(p.num_inference_steps),
        '--guidance',
        String(p.guidance_scale),
      ];
      args.push('--seed', String(p.seed), '--out', `${testCase.id}.png`);
      args.push('--scheduler', testCase.id.includes('euler-a') ? 'euler-a' : testCase.id.includes('dpmpp') ? 'dpmpp-2m-karras' : 'euler');
      if (p.negative_prompt !== null) args.push('--negative', p.negative_prompt);
      if (remix) args.push('--image', fixturePath('img2img-input-A.png'), '--strength', String(p.strength));
      // A10 is 64×64, the tiny SDXL's native size: its default, so no --width/--height
      else if (p.width !== 64 || p.height !== 64) args.push('--width', String(p.width), '--height', String(p.height));
      const { code, stderr } = await latentcord(args, dir);
      assert.equal(code, 0, stderr);
      const png = await readFile(join(dir, `${testCase.id}.png`));
      const [actual, expected] = await Promise.all([rgbOf(png), rgbOf(await readFile(fixturePath(testCase.output_png)))]);
      assert.equal(actual.length, expected.length);
      let worst = 0;
      let total = 0;
      for (let i = 0; i < expected.length; i++) {
        const d = Math.abs(actual[i]! - expected[i]!);
        worst = Math.max(worst, d);
        total += d;
      }
      assert.ok(worst <= 1 && total / expected.length <= 2e-3, `PNG max ${worst}, mean ${total / expected.length}`);
      const parameters = readPngText(png)['parameters']!;
      assert.match(parameters, new RegExp(`Size: ${p.width}x${p.height}, Model: tiny-sdxl`));
    });
  }

  it('a folder larger than this machine is refused before loading, with the numbers', async () => {
    const big = join(dir, 'huge-sdxl');
    cpSync(tinySdxlModelDir, big, { recursive: true });
    const fd = openSync(join(big, 'unet', 'model.onnx_data'), 'w');
    ftruncateSync(fd, 4e12);
    closeSync(fd);
    const { code, stderr } = await latentcord(['info'], dir, big);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^error: .*huge-sdxl needs about 5\.\d\d TiB of memory to run on the CPU.*fp16 SDXL folder on a CUDA GPU/m);
  });

  it('an SDXL folder without text_encoder_2 is refused by name', async () => {
    const broken = join(dir, 'no-encoder-2');
    cpSync(tinySdxlModelDir, broken, { recursive: true, filter: (from) => !from.includes('text_encoder_2') });
    const { code, stderr } = await latentcord(['imagine', 'a fox', '--steps', '1'], dir, broken);
    assert.equal(code, 2, stderr);
    assert.match(
      stderr,
      /^error: Model file .*no-encoder-2\/text_encoder_2\/model\.onnx is missing: this is a Stable Diffusion XL folder/m,
    );
  });
});
