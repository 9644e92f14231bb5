import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { readPngText } from '../../src/image/index.js';
import type { ApiMessage } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { fixturePath, loadJsonFixture, tinySdxlModelDir } from '../helpers/fixtures.js';
import { attachmentsOf, buttonIds, startBotWorld, type BotWorld } from './bot-world.js';

/**
 * The bot on the tiny SDXL folder: `/imagine`, `/remix`, Apps › Remix, Reroll and a mention draw what diffusers'
 * `StableDiffusionXLPipeline` draws (the A10–A12 goldens, compared as pictures: max 1, mean ≤ 2e-3).
 */
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
const caseById = (prefix: string) => cases.find((c) => c.id.startsWith(prefix))!;

function resultOf(handle: InteractionHandle): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: 90_000 });
}

async function pictureOf(
  world: BotWorld,
  message: ApiMessage,
): Promise<{ rgb: Buffer; parameters: string; width: number; height: number }> {
  const [png] = attachmentsOf(world.discord, message);
  assert.ok(png, `a picture: ${message.content}`);
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { rgb: data, parameters: readPngText(png)['parameters'] ?? '', width: info.width, height: info.height };
}

/** diffusers' picture within the fixtures' PNG tolerance (max 1, mean ≤ 2e-3). */
async function assertLikeGolden(rgb: Buffer, golden: SdxlCase): Promise<void> {
  const expected = await sharp(readFileSync(fixturePath(golden.output_png)))
    .removeAlpha()
    .raw()
    .toBuffer();
  assert.equal(rgb.length, expected.length, 'same size');
  let worst = 0;
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(rgb[i]! - expected[i]!);
    worst = Math.max(worst, d);
    total += d;
  }
  assert.ok(worst <= 1 && total / expected.length <= 2e-3, `${golden.id}: PNG max ${worst}, mean ${total / expected.length}`);
}

describe('SDXL end to end (real bot process, fake Discord, tiny SDXL model)', () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld({ env: { LATENTCORD_MODEL_DIR: tinySdxlModelDir } });
  });
  after(async () => {
    await world?.close();
  });

  it("/imagine draws diffusers' SDXL picture (A10: Euler, CFG 5, a negative prompt), at the model's own size by default", async () => {
    const { discord, channel, alice } = world;
    const golden = caseById('A10');
    const p = golden.params;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'imagine',
      options: {
        prompt: p.prompt,
        negative: p.negative_prompt!,
        seed: String(p.seed),
        steps: p.num_inference_steps,
        guidance: p.guidance_scale,
        scheduler: 'euler',
      },
    });
    assert.equal((await handle.waitForResponse()).type, 5, 'deferred at once');
    const message = await resultOf(handle);
    assert.match(message.content, /seed `42` · 64×64 · 10 steps · Euler · CFG 5/);
    const picture = await pictureOf(world, message);
    await assertLikeGolden(picture.rgb, golden);
    assert.equal(
      picture.parameters,
      'a red fox in the snow\nNegative prompt: blurry, lowres\nSteps: 10, Sampler: Euler, CFG scale: 5, Seed: 42, Size: 64x64, Model: tiny-sdxl, RNG: CPU',
    );
    assert.deepEqual(discord.unexpectedRequests(), []);
  });

  it('/imagine without a negative prompt uses zeros (A11: Euler a, 128×64)', async () => {
    const { discord, channel, bob } = world;
    const golden = caseById('A11');
    const p = golden.params;
    const message = await resultOf(
      discord.sendSlashCommand({
        user: bob,
        channelId: channel.id,
        name: 'imagine',
        options: {
          prompt: p.prompt,
          seed: String(p.seed),
          steps: p.num_inference_steps,
          guidance: p.guidance_scale,
          scheduler: 'euler-a',
          width: p.width,
          height: p.height,
        },
      }),
    );
    await assertLikeGolden((await pictureOf(world, message)).rgb, golden);
  });

  it("/remix of a picture draws diffusers' SDXL img2img (A12: DPM++ 2M Karras, strength 0.6)", async () => {
    const { discord, channel, alice } = world;
    const golden = caseById('A12');
    const p = golden.params;
    const handle = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'remix',
      options: {
        prompt: p.prompt,
        negative: p.negative_prompt!,
        image: { data: readFileSync(fixturePath('img2img-input-A.png')), filename: 'harbor.png', contentType: 'image/png' },
        strength: p.strength!,
        seed: String(p.seed),
        steps: p.num_inference_steps,
        guidance: p.guidance_scale,
        scheduler: 'dpmpp-2m-karras',
      },
    });
    const message = await resultOf(handle);
    assert.match(message.content, /96×64 · 15 steps · DPM\+\+ 2M Karras · CFG 5 · strength 0\.6/);
    const picture = await pictureOf(world, message);
    await assertLikeGolden(picture.rgb, golden);
    assert.match(picture.parameters, /Size: 96x64, Model: tiny-sdxl, Denoising strength: 0\.6/);
  });

  it('Apps › Remix and Reroll on an SDXL result, and a mention, all draw', async () => {
    const { discord, channel, alice, bob } = world;
    const first = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'a lighthouse', seed: '3' } }),
    );
    const menu = discord.sendMessageCommand({ user: bob, targetMessage: first, name: 'Remix' });
    assert.equal((await menu.waitForResponse()).type, 9, 'a modal');
    const remix = await resultOf(discord.submitModal({ from: menu, fields: { prompt: 'a lighthouse at night', strength: '0.5' } }));
    const remixed = await pictureOf(world, remix);
    assert.deepEqual([remixed.width, remixed.height], [64, 64]);
    assert.match(remixed.parameters, /^a lighthouse at night\n.*Model: tiny-sdxl, Denoising strength: 0\.5/s);

    const reroll = await resultOf(discord.clickButton({ user: alice, message: first, customId: buttonIds(first)[0]! }));
    const rerolled = await pictureOf(world, reroll);
    assert.notDeepEqual(rerolled.rgb, (await pictureOf(world, first)).rgb, 'a new seed, a new picture');

    const mention = discord.postMessage({ user: alice, channelId: channel.id, content: 'imagine seed:4 a red barn', mentionsBot: true });
    const reply = await world.discord.waitForMessage(
      channel,
      (m) => m.author.id === discord.botUser.id && m.message_reference?.message_id === mention.id && m.attachments.length > 0,
      { timeoutMs: 90_000 },
    );
    assert.match((await pictureOf(world, reply)).parameters, /^a red barn\n.*Seed: 4, Size: 64x64, Model: tiny-sdxl/s);
  });
});
