import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { readPngText } from '../../src/image/index.js';
import type { ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { repoRoot, tinyModelDir } from '../helpers/fixtures.js';
import { makeVariantModelFolder } from '../support/onnx/model-folder.js';
import { attachmentsOf, buttonIds, startBotWorld, type BotWorld } from './bot-world.js';

/**
 * Prompts written the AUTOMATIC1111 way through the whole bot: weighted, longer than one CLIP window, with
 * weighted negative prompts; the same pictures as the command line; the token limit and the emphasis setting;
 * batching that never mixes prompt lengths.
 */
const run = promisify(execFile);

/** A weighted prompt of 152 tokens in three chunks, written the way people paste them. */
const longWeightedPrompt =
  '(masterpiece:1.2), best quality, a cozy cabin in a snowy pine forest at dusk, warm light glowing from the windows, ' +
  'smoke curling from the stone chimney, (northern lights:1.3) dancing across the sky, a frozen lake in the foreground ' +
  'reflecting the colors, footprints in fresh snow leading to the door, a sled leaning against the porch, [fog], ' +
  '(highly detailed:1.1), digital painting, soft contrast, peaceful winter night, (a lantern hanging from a wooden post ' +
  'beside the frozen path:1.2), stars above the mountains, an owl perched on a snowy branch, ((icicles)) hanging from the ' +
  'roof, a red scarf on a wooden bench, deer tracks crossing the clearing, [[distant village lights]], a crescent moon ' +
  'behind thin clouds, wind swept snow drifts, pine needles dusted with frost, cinematic composition';

/** A job that holds the pipeline for a second or two, so that others queue behind it. */
const blockerOptions = { prompt: 'a long blocker', width: 256, height: 256, steps: 30, seed: '1' };

function resultOf(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: 90_000 });
}

function running(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => /step [1-9]\d*\/\d+/.test(m.content), { timeoutMs: 30_000 });
}

function jobIdOf(message: ApiMessage): string {
  const id = buttonIds(message)[0];
  assert.ok(id, `buttons on: ${message.content}`);
  return id.split(':')[2]!;
}

/** Decoded RGB bytes of each PNG of a result message. */
async function picturesOf(world: BotWorld, message: ApiMessage): Promise<Buffer[]> {
  assert.ok(message.attachments.length > 0, `a result: ${message.content}`);
  return Promise.all(attachmentsOf(world.discord, message).map((png) => sharp(png).raw().toBuffer()));
}

/** The prefilled value of a field of the modal a handle opened. */
function modalField(handle: InteractionHandle, id: string): string | undefined {
  const rows = (handle.modal?.components ?? []) as { components?: { custom_id?: string; value?: string }[] }[];
  return rows.flatMap((row) => row.components ?? []).find((c) => c.custom_id === id)?.value;
}

async function gradientPng(width: number, height: number): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = Math.round((255 * x) / width);
      rgb[i + 1] = Math.round((255 * y) / height);
      rgb[i + 2] = 128;
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('weighted and long prompts end to end (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;
  let dir: string;

  /** The command line's picture for the same request, as RGB bytes. */
  async function cliPicture(args: readonly string[]): Promise<{ rgb: Buffer; parameters: string }> {
    const out = join(dir, `cli-${Math.random().toString(36).slice(2)}.png`);
    const env = { PATH: process.env['PATH'] ?? '', HOME: dir, LATENTCORD_MODEL_DIR: tinyModelDir, LATENTCORD_DATA_DIR: join(dir, 'data') };
    await run(process.execPath, [join(repoRoot, 'dist', 'cli.js'), ...args, '--out', out], { cwd: dir, env });
    const png = await readFile(out);
    return { rgb: await sharp(png).raw().toBuffer(), parameters: readPngText(png)['parameters'] ?? '' };
  }

  /** `/settings set key value` as the admin; resolves once the bot confirmed it (privately). */
  async function setSetting(key: string, value: string): Promise<void> {
    const handle = world.discord.sendSlashCommand({
      user: world.admin,
      channelId: world.channel.id,
      name: 'settings',
      subcommand: 'set',
      options: { key, value },
    });
    const response = await handle.waitForResponse();
    const content = String((response.data as { content?: string }).content);
    assert.equal(response.type, 4, content);
    assert.doesNotMatch(content, /^❌/, content);
  }

  /** `/settings reset key` as the admin. */
  async function resetSetting(key: string): Promise<void> {
    const handle = world.discord.sendSlashCommand({
      user: world.admin,
      channelId: world.channel.id,
      name: 'settings',
      subcommand: 'reset',
      options: { key },
    });
    const response = await handle.waitForResponse();
    assert.doesNotMatch(String((response.data as { content?: string }).content), /^❌/);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latentcord-prompts-'));
    world = await startBotWorld();
  });
  after(async () => {
    await world?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a weighted 150-token /imagine gives the command line's picture, and the PNG keeps the prompt verbatim; Reroll and Vary keep the weighted prompts", async () => {
    const { discord, channel, alice } = world;
    const message = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: longWeightedPrompt, negative: '(worst quality:1.4), [blurry]', seed: '11', steps: 5 },
      }),
    );
    assert.doesNotMatch(message.content, /ignored/, 'nothing cut: 152 tokens are within the default 225');
    const [picture] = await picturesOf(world, message);
    const parameters = readPngText(attachmentsOf(discord, message)[0]!)['parameters']!;
    assert.ok(parameters.startsWith(`${longWeightedPrompt}\nNegative prompt: (worst quality:1.4), [blurry]\n`), parameters);
    assert.doesNotMatch(parameters, /Emphasis/, "the server's default (original) is not recorded");

    const cli = await cliPicture([
      'imagine',
      longWeightedPrompt,
      '--negative',
      '(worst quality:1.4), [blurry]',
      '--seed',
      '11',
      '--steps',
      '5',
      '--guidance',
      '7.5',
      '--width',
      '64',
      '--height',
      '64',
      '--scheduler',
      'euler',
    ]);
    assert.ok(picture!.equals(cli.rgb), 'the same picture as the command line, byte for byte');
    assert.equal(parameters, cli.parameters);

    // Reroll: the same weighted prompts with a new seed.
    const rerolled = await resultOf(discord.clickButton({ user: alice, message, customId: buttonIds(message)[0]! }));
    const rerolledParameters = readPngText(attachmentsOf(discord, rerolled)[0]!)['parameters']!;
    assert.ok(rerolledParameters.startsWith(`${longWeightedPrompt}\nNegative prompt: (worst quality:1.4), [blurry]\n`));
    assert.doesNotMatch(rerolledParameters, /Seed: 11,/);

    // Vary (Subtle): a remix of the picture with the same weighted prompts, exactly as the command line draws it.
    const varyId = buttonIds(message).find((id) => id.split(':')[1] === 'vary-subtle');
    assert.ok(varyId, buttonIds(message).join(' '));
    const varied = await resultOf(discord.clickButton({ user: alice, message, customId: varyId }));
    const variedParameters = readPngText(attachmentsOf(discord, varied)[0]!)['parameters']!;
    assert.ok(variedParameters.startsWith(`${longWeightedPrompt}\nNegative prompt: (worst quality:1.4), [blurry]\n`), variedParameters);
    assert.doesNotMatch(varied.content, /ignored/);
    const variedSeed = /Seed: (\d+),/.exec(variedParameters)?.[1];
    assert.ok(variedSeed, variedParameters);
    const sourcePath = join(dir, 'cabin.png');
    await writeFile(sourcePath, attachmentsOf(discord, message)[0]!);
    const variedCli = await cliPicture([
      'remix',
      longWeightedPrompt,
      '--image',
      sourcePath,
      '--negative',
      '(worst quality:1.4), [blurry]',
      '--seed',
      variedSeed,
      '--steps',
      '5',
      '--strength',
      '0.35',
      '--guidance',
      '7.5',
      '--scheduler',
      'euler',
    ]);
    const [variedPicture] = await picturesOf(world, varied);
    assert.ok(variedPicture!.equals(variedCli.rgb), 'Vary: the same picture as the command line, byte for byte');
  });

  it("a mention remix with a weighted negative prompt gives the command line's picture", async () => {
    const { discord, channel, bob } = world;
    const source = await gradientPng(80, 48);
    const mention = discord.postMessage({
      user: bob,
      channelId: channel.id,
      content:
        'remix a (snowy street:1.3) at night BREAK (falling snow:1.2) seed:5 steps:6 negative:"(worst quality:1.4), [blurry], (text:1.2)"',
      mentionsBot: true,
      attachments: [{ data: source, filename: 'street.png', contentType: 'image/png' }],
    });
    const reply = await discord.waitForMessage(
      channel.id,
      (m) =>
        m.author.id === discord.botUser.id &&
        m.message_reference?.message_id === mention.id &&
        (m.attachments.length > 0 || m.content.startsWith('❌')),
      { timeoutMs: 90_000 },
    );
    const [picture] = await picturesOf(world, reply);
    const sourcePath = join(dir, 'street.png');
    await writeFile(sourcePath, source);
    const cli = await cliPicture([
      'remix',
      'a (snowy street:1.3) at night BREAK (falling snow:1.2)',
      '--image',
      sourcePath,
      '--negative',
      '(worst quality:1.4), [blurry], (text:1.2)',
      '--seed',
      '5',
      '--steps',
      '6',
      '--strength',
      '0.7',
      '--guidance',
      '7.5',
      '--scheduler',
      'euler',
    ]);
    assert.ok(picture!.equals(cli.rgb), 'the same picture as the command line, byte for byte');
    assert.match(
      cli.parameters,
      /^a \(snowy street:1\.3\) at night BREAK \(falling snow:1\.2\)\nNegative prompt: \(worst quality:1\.4\), \[blurry\], \(text:1\.2\)\n/,
    );
  });

  it("/remix and Apps › Remix read weighted prompts after the server's weighted negative prefix, as the command line does", async () => {
    const { discord, channel, alice, bob } = world;
    const prefix = '(lowres:1.3), [jpeg artifacts]';
    await setSetting('negativePrefix', prefix);
    try {
      const source = await gradientPng(80, 48);
      const sourcePath = join(dir, 'lighthouse.png');
      await writeFile(sourcePath, source);
      const prompt = 'a (lighthouse:1.3) on a cliff BREAK [storm] clouds';
      const remixed = await resultOf(
        discord.sendSlashCommand({
          user: alice,
          channelId: channel.id,
          name: 'remix',
          options: {
            prompt,
            negative: '(text:1.2)',
            image: { data: source, filename: 'lighthouse.png', contentType: 'image/png' },
            strength: 0.6,
            seed: '7',
            steps: 5,
          },
        }),
      );
      const [picture] = await picturesOf(world, remixed);
      const resultPng = attachmentsOf(discord, remixed)[0]!;
      const parameters = readPngText(resultPng)['parameters']!;
      assert.ok(parameters.startsWith(`${prompt}\nNegative prompt: ${prefix}, (text:1.2)\n`), parameters);
      const cli = await cliPicture([
        'remix',
        prompt,
        '--image',
        sourcePath,
        '--negative',
        `${prefix}, (text:1.2)`,
        '--seed',
        '7',
        '--steps',
        '5',
        '--strength',
        '0.6',
        '--guidance',
        '7.5',
        '--scheduler',
        'euler',
      ]);
      assert.ok(picture!.equals(cli.rgb), '/remix: the same picture as the command line, byte for byte');

      // Apps › Remix on that result: the modal brings the weighted prompt back verbatim; the new one is read weighted.
      const menu = discord.sendMessageCommand({ user: bob, targetMessage: remixed, name: 'Remix' });
      assert.equal((await menu.waitForResponse()).type, 9, 'a modal');
      assert.equal(modalField(menu, 'prompt'), prompt);
      const again = 'a ((lighthouse)) at dawn, (fog:0.8), [[sea spray]]';
      const viaMenu = await resultOf(discord.submitModal({ from: menu, fields: { prompt: again, strength: '0.5' } }));
      const [menuPicture] = await picturesOf(world, viaMenu);
      const menuParameters = readPngText(attachmentsOf(discord, viaMenu)[0]!)['parameters']!;
      assert.ok(menuParameters.startsWith(`${again}\nNegative prompt: ${prefix}\n`), menuParameters);
      const seed = /Seed: (\d+),/.exec(menuParameters)?.[1];
      assert.ok(seed, menuParameters);
      const resultPath = join(dir, 'lighthouse-remixed.png');
      await writeFile(resultPath, resultPng);
      const menuCli = await cliPicture([
        'remix',
        again,
        '--image',
        resultPath,
        '--negative',
        prefix,
        '--seed',
        seed,
        '--steps',
        '4', // the modal has no steps: the server default
        '--strength',
        '0.5',
        '--guidance',
        '7.5',
        '--scheduler',
        'euler',
      ]);
      assert.equal(menuParameters, menuCli.parameters);
      assert.ok(menuPicture!.equals(menuCli.rgb), 'Apps › Remix: the same picture as the command line, byte for byte');
    } finally {
      await resetSetting('negativePrefix');
    }
  });

  it("an over-limit prompt is read up to the server's maxPromptTokens and the reply says what was dropped; emphasis is a server setting", async () => {
    const { discord, channel, alice } = world;
    await setSetting('maxPromptTokens', '75');
    await setSetting('emphasis', 'no-norm');
    const words = [...Array(75).fill('(cat:1.1)'), 'a', 'red', 'dog'].join(' ');
    const message = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: words, seed: '3' } }),
    );
    assert.match(message.content, /⚠️ The prompt has 78 tokens, more than the 75 read; ignored: “a red dog”/);
    const parameters = readPngText(attachmentsOf(discord, message)[0]!)['parameters']!;
    assert.ok(parameters.startsWith(`${words}\n`), 'the PNG keeps the whole prompt as written');
    assert.match(parameters, /, Emphasis: No norm$/, "the server's mode, recorded as A1111 does");
    const negative = [...Array(74).fill('blurry'), 'ugly', 'hands', 'and', 'feet'].join(' ');
    const overNegative = await resultOf(
      discord.sendSlashCommand({
        user: alice,
        channelId: channel.id,
        name: 'imagine',
        options: { prompt: 'a (cat:1.2)', negative, seed: '3' },
      }),
    );
    assert.match(overNegative.content, /⚠️ The negative prompt has 78 tokens, more than the 75 read; ignored: “hands and feet”/);
    assert.doesNotMatch(overNegative.content, /The prompt has/);
    await setSetting('maxPromptTokens', '225');
    await setSetting('emphasis', 'original');
  });

  it('batches jobs only with others of the same prompt length in chunks; each picture equals its solo run', async () => {
    const { discord, channel, alice, bob, admin } = world;
    const imagine = (user: typeof alice, options: Record<string, string | number>) =>
      discord.sendSlashCommand({ user, channelId: channel.id, name: 'imagine', options });
    const blocker = imagine(admin, blockerOptions);
    await running(blocker);
    const jobs: { user: typeof alice; options: Record<string, string | number> }[] = [
      { user: alice, options: { prompt: 'a (red:1.3) apple', seed: '101', steps: 6 } },
      { user: bob, options: { prompt: 'a green pear BREAK on a (wooden:1.2) table', seed: '202', steps: 6 } },
      { user: alice, options: { prompt: 'a [yellow] banana', seed: '303', steps: 6, negative: '(blurry:1.3)' } },
      { user: bob, options: { prompt: 'a plum', seed: '404', steps: 6, negative: 'blurry BREAK (lowres:1.2)' } },
    ];
    const handles = jobs.map(({ user, options }) => imagine(user, options));
    const batched = await Promise.all(handles.map(resultOf));
    await resultOf(blocker);
    const ids = batched.map(jobIdOf);
    const batchOf = (id: string) =>
      world.bot.logs.find(
        (line) => line.msg === 'batch generated' && Array.isArray(line['jobs']) && (line['jobs'] as string[]).includes(id),
      )?.['jobs'] as string[] | undefined;
    // Chunks: 1, 2, 1, 2 (the plum's negative prompt has two chunks: its prompt is padded to two).
    assert.deepEqual(batchOf(ids[0]!)?.slice().sort(), [ids[0], ids[2]].sort(), 'the two one-chunk jobs share a batch');
    assert.deepEqual(batchOf(ids[1]!)?.slice().sort(), [ids[1], ids[3]].sort(), 'the two two-chunk jobs share a batch');

    for (const [i, { user, options }] of jobs.entries()) {
      const alone = await resultOf(imagine(user, options));
      assert.deepEqual(batchOf(jobIdOf(alone)), [jobIdOf(alone)], 'ran alone');
      const [together] = await picturesOf(world, batched[i]!);
      const [solo] = await picturesOf(world, alone);
      assert.ok(together!.equals(solo!), `${options.prompt}: batched = alone`);
    }
  });
});

describe('a model whose UNet reads exactly 77 text tokens (real bot process, fake Discord)', () => {
  let world: BotWorld;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latentcord-fixed-77-'));
    const modelDir = makeVariantModelFolder(join(dir, 'model'), { unet: 'fixedSequence' }).dir;
    world = await startBotWorld({ env: { LATENTCORD_MODEL_DIR: modelDir } });
  });
  after(async () => {
    await world?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a prompt longer than one chunk is refused with why and how; a short weighted one is drawn; the bot keeps serving', async () => {
    const { discord, channel, alice } = world;
    const imagine = (prompt: string) =>
      resultOf(discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt, seed: '4' } }));
    const refused = await imagine('a (lighthouse:1.3) BREAK a stormy sea');
    assert.match(refused.content, /^❌/);
    assert.match(refused.content, /reads exactly 77 text tokens/);
    assert.match(refused.content, /the prompt has 78 tokens in 2 chunks/);
    assert.match(refused.content, /\(the model's unet\/model\.onnx fixes the sequence axis/);
    assert.doesNotMatch(refused.content, /latentcord-fixed-77/, "the host's paths stay on the host");
    assert.match(refused.content, /optimum-cli export onnx/);
    assert.equal(refused.attachments.length, 0);
    const drawn = await imagine('a (lighthouse:1.3) by a stormy sea');
    assert.equal(drawn.attachments.length, 1, drawn.content);
  });
});
