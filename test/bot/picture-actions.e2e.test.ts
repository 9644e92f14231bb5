import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { readPngText } from '../../src/image/index.js';
import type { ApiMessage, ApiUser } from '../fake-discord/api-types.js';
import type { InteractionHandle } from '../fake-discord/index.js';
import { attachmentsOf, buttonIds, resultOf, startBotWorld, type BotWorld } from './bot-world.js';

/** The `custom_id` of a message's button for `action` (`lc:<action>:<job>[:<picture>]`) on picture `picture`. */
function button(message: ApiMessage, action: string, picture?: number): string {
  const id = buttonIds(message).find((c) => {
    const [, a, , p] = c.split(':');
    return a === action && (picture === undefined || p === String(picture));
  });
  assert.ok(id, `a ${action} button on: ${message.content} (${buttonIds(message).join(' ')})`);
  return id;
}

function jobIdOf(message: ApiMessage): string {
  return button(message, 'reroll').split(':')[2]!;
}

/** Pixels of a PNG (RGB, no metadata), its size and its A1111 parameters. */
async function picture(png: Buffer): Promise<{ width: number; height: number; raw: Buffer; parameters: string }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, raw: data, parameters: readPngText(png)['parameters'] ?? '' };
}

/** The text of an interaction's private answer: a direct ephemeral reply, or an ephemeral follow-up after a deferral. */
async function privateAnswer(handle: InteractionHandle): Promise<string> {
  const step = await handle.waitFor(
    (s) => (s.kind === 'callback' && s.type === 4) || (s.kind === 'followUp' && (s.message.flags & 64) === 64),
    { timeoutMs: 15_000 },
  );
  if (step.kind === 'callback') {
    const data = step.data as { content?: string; flags?: number };
    assert.equal((data.flags ?? 0) & 64, 64, `ephemeral: ${data.content}`);
    return data.content ?? '';
  }
  assert.ok(step.kind === 'followUp');
  return step.message.content;
}

/** Waits until a /history view (an interaction's ephemeral original) satisfies `predicate`. */
function historyView(handle: InteractionHandle, predicate: (m: ApiMessage) => boolean): Promise<ApiMessage> {
  return handle.waitForOriginal((m) => (m.flags & 64) === 64 && predicate(m), { timeoutMs: 30_000 });
}

describe('Vary, Upscale and /history end to end (real bot process, fake Discord, tiny model)', () => {
  let world: BotWorld;
  before(async () => {
    world = await startBotWorld();
  });
  after(async () => {
    await world?.close();
  });

  /** An /imagine result of `user` (64×64 unless asked otherwise). */
  async function imagine(user: ApiUser, options: Record<string, string | number>): Promise<ApiMessage> {
    const { discord, channel } = world;
    const result = await resultOf(discord.sendSlashCommand({ user, channelId: channel.id, name: 'imagine', options }));
    assert.ok(result.attachments.length > 0, result.content);
    return result;
  }

  /** `/remix` of `png` with the given options: what Vary and Upscale must equal. */
  async function remixOf(user: ApiUser, png: Buffer, options: Record<string, string | number>): Promise<ApiMessage> {
    const { discord, channel } = world;
    const result = await resultOf(
      discord.sendSlashCommand({
        user,
        channelId: channel.id,
        name: 'remix',
        options: { ...options, image: { data: png, filename: 'source.png', contentType: 'image/png' } },
      }),
    );
    assert.ok(result.attachments.length > 0, result.content);
    return result;
  }

  it('Vary (Subtle) draws exactly the /remix of that picture with its prompt, strength 0.35 and the new seed', async () => {
    const { discord, alice } = world;
    const original = await imagine(alice, { prompt: 'a lighthouse at dusk', seed: '5', steps: 8, negative: 'fog' });
    const originalJob = jobIdOf(original);

    const varied = await resultOf(discord.clickButton({ user: alice, message: original, customId: button(original, 'vary-subtle') }));
    assert.equal(varied.attachments.length, 1, varied.content);
    assert.match(
      varied.content,
      /^<@\d+> \*\*a lighthouse at dusk\*\*\nVary \(Subtle\) · seed `\d+` · 64×64 · 8 steps · Euler · CFG 7\.5 · strength 0\.35$/u,
    );
    const job = await world.settledJob(jobIdOf(varied));
    assert.deepEqual(
      [job.kind, job.operation, job.strength, job.parentJobId, job.negativePrompt, job.count],
      ['remix', 'vary-subtle', 0.35, originalJob, 'fog', 1],
    );
    assert.notEqual(job.seed, '5', 'a new seed');
    assert.equal(job.sourceImageUrl, original.attachments[0]!.url, 'the picture under the button');

    const [source] = attachmentsOf(discord, original);
    const remix = await remixOf(alice, source!, {
      prompt: 'a lighthouse at dusk',
      negative: 'fog',
      strength: 0.35,
      seed: job.seed,
      steps: 8,
    });
    const [a, b] = await Promise.all([picture(attachmentsOf(discord, varied)[0]!), picture(attachmentsOf(discord, remix)[0]!)]);
    assert.deepEqual([a.width, a.height], [64, 64]);
    assert.ok(a.raw.equals(b.raw), 'the same pixels as the equivalent /remix');
    assert.equal(a.parameters, b.parameters);
    assert.match(a.parameters, /Denoising strength: 0\.35/u);
  });

  it('Upscale ×2 (hires) draws exactly the /remix at twice the size with the same seed, strength 0.35, and says so in the PNG', async () => {
    const { discord, alice, bob } = world;
    const original = await imagine(alice, { prompt: 'a red barn', seed: '21', steps: 8 });
    // Anyone may use the buttons of a result, as with Reroll.
    const upscaled = await resultOf(discord.clickButton({ user: bob, message: original, customId: button(original, 'upscale') }));
    assert.equal(upscaled.attachments.length, 1, upscaled.content);
    assert.match(upscaled.content, new RegExp(`^<@${bob.id}> \\*\\*a red barn\\*\\*\\nUpscale ×2 · seed \`21\` · 128×128 · 8 steps`, 'u'));
    const job = await world.settledJob(jobIdOf(upscaled));
    assert.deepEqual(
      [job.operation, job.seed, job.strength, job.width, job.height, job.userId],
      ['upscale-hires', '21', 0.35, 128, 128, bob.id],
    );

    const [source] = attachmentsOf(discord, original);
    const remix = await remixOf(bob, source!, { prompt: 'a red barn', strength: 0.35, seed: '21', steps: 8, width: 128, height: 128 });
    const [a, b] = await Promise.all([picture(attachmentsOf(discord, upscaled)[0]!), picture(attachmentsOf(discord, remix)[0]!)]);
    assert.deepEqual([a.width, a.height], [128, 128]);
    assert.ok(a.raw.equals(b.raw), 'the same pixels as the equivalent /remix');
    // Recorded as A1111's hires fix: the first pass's size, the second pass's strength.
    assert.equal(
      a.parameters,
      'a red barn\nSteps: 8, Sampler: Euler, CFG scale: 7.5, Seed: 21, Size: 64x64, Model: tiny-sd, Denoising strength: 0.35, RNG: CPU, ' +
        'Hires upscale: 2, Hires upscaler: Lanczos',
    );
    assert.match(b.parameters, /Size: 128x128/u);
  });

  it('refuses an upscale beyond the server’s maxPixels privately, before queueing anything', async () => {
    const { discord, alice } = world;
    // The test world allows 65,536 pixels (256×256): twice 192×192 is 147,456.
    const original = await imagine(alice, { prompt: 'a wide field', width: 192, height: 192, steps: 2 });
    const submittedBefore = world.bot.logs.filter((l) => l.msg === 'job submitted').length;
    const click = discord.clickButton({ user: alice, message: original, customId: button(original, 'upscale') });
    assert.equal(
      await privateAnswer(click),
      "❌ Upscaling this 192×192 picture ×2 would make it 384×384 = 147,456 pixels, more than this server's limit of 65,536 " +
        '(`maxPixels`, which admins set with /settings).',
    );
    await world.bot.waitForLog((l) => l.msg === 'request refused' && l['identifier'] === 'upscale.tooLarge', 10_000);
    assert.equal(world.bot.logs.filter((l) => l.msg === 'job submitted').length, submittedBefore, 'nothing was queued');
  });

  it('Vary (Strong) on the second picture of a result varies that picture, with as many pictures as the job had', async () => {
    const { discord, alice } = world;
    const original = await imagine(alice, { prompt: 'two boats', seed: '9', count: 2, steps: 6 });
    assert.equal(original.attachments.length, 2);
    assert.deepEqual(
      buttonIds(original).map((id) => id.split(':').slice(1, 2).concat(id.split(':').slice(3)).join(':')),
      ['reroll', 'remix', 'info', 'delete', 'vary-subtle:0', 'vary-subtle:1', 'vary-strong:0', 'vary-strong:1', 'upscale:0', 'upscale:1'],
    );
    const varied = await resultOf(discord.clickButton({ user: alice, message: original, customId: button(original, 'vary-strong', 1) }));
    assert.equal(varied.attachments.length, 2);
    const job = await world.settledJob(jobIdOf(varied));
    assert.deepEqual([job.operation, job.strength, job.count], ['vary-strong', 0.65, 2]);
    assert.equal(job.sourceImageUrl, original.attachments[1]!.url);
  });

  it('with `upscale off` the button is gone, and an older one says upscaling is off', async () => {
    const { discord, channel, admin, alice } = world;
    const before = await imagine(alice, { prompt: 'a small house', steps: 2 });
    const set = discord.sendSlashCommand({
      user: admin,
      channelId: channel.id,
      name: 'settings',
      subcommand: 'set',
      options: { key: 'upscale', value: 'off' },
    });
    assert.match(await privateAnswer(set), /`upscale` is now off/u);
    try {
      const after = await imagine(alice, { prompt: 'a small house', steps: 2 });
      assert.deepEqual(
        buttonIds(after).map((id) => id.split(':')[1]),
        ['reroll', 'remix', 'info', 'delete', 'vary-subtle', 'vary-strong'],
      );
      const stale = discord.clickButton({ user: alice, message: before, customId: button(before, 'upscale') });
      assert.equal(await privateAnswer(stale), '❌ Upscaling is turned off on this server.');
    } finally {
      const reset = discord.sendSlashCommand({
        user: admin,
        channelId: channel.id,
        name: 'settings',
        subcommand: 'reset',
        options: { key: 'upscale' },
      });
      assert.match(await privateAnswer(reset), /back to its default/u);
    }
  });

  it('/history shows only the requester’s pictures here, five a page, with their buttons one pick away', async () => {
    const { discord, guild, channel } = world;
    const carol = discord.createUser({ username: 'carol' });
    const dave = discord.createUser({ username: 'dave' });
    discord.addMember(guild.id, carol.id);
    discord.addMember(guild.id, dave.id);
    const carols: ApiMessage[] = [];
    for (let i = 1; i <= 6; i++) carols.push(await imagine(carol, { prompt: `carol picture ${i}`, steps: 2, seed: String(100 + i) }));
    const daves = await imagine(dave, { prompt: 'dave picture', steps: 2 });

    const show = discord.sendSlashCommand({ user: carol, channelId: channel.id, name: 'history', subcommand: 'show' });
    const response = await show.waitForResponse();
    assert.equal(response.type, 5);
    assert.equal(((response.data as { flags?: number } | undefined)?.flags ?? 0) & 64, 64, 'privately');
    const page1 = await historyView(show, (m) => m.embeds.length > 0);
    assert.match(page1.content, /Your pictures in this server\*\* — 6 in all, newest first\./u);
    assert.deepEqual(
      page1.embeds.map((e) => e.title),
      [
        '1. Imagine: carol picture 6',
        '2. Imagine: carol picture 5',
        '3. Imagine: carol picture 4',
        '4. Imagine: carol picture 3',
        '5. Imagine: carol picture 2',
      ],
    );
    assert.deepEqual(
      page1.embeds.map((e) => e.thumbnail?.url),
      [6, 5, 4, 3, 2].map((n) => carols[n - 1]!.attachments[0]!.url),
      'thumbnails are the pictures as their messages carry them now',
    );
    assert.ok(page1.embeds[0]!.description?.includes(`/channels/${guild.id}/${channel.id}/${carols[5]!.id}`), 'a link to the result');

    const older = discord.clickButton({ user: carol, message: page1, customId: `lc:history:page:${carol.id}:1` });
    const page2 = await historyView(older, (m) => m.embeds.length === 1);
    assert.equal(page2.embeds[0]!.title, '6. Imagine: carol picture 1');
    assert.ok(buttonIds(page2).includes(`lc:history:at:${carol.id}:1`));

    const open = discord.selectMenu({
      user: carol,
      message: page2,
      customId: `lc:history:open:${carol.id}:1`,
      values: [jobIdOf(carols[0]!)],
    });
    const view = await historyView(open, (m) => m.embeds[0]?.image !== undefined);
    assert.equal(view.embeds[0]!.image?.url, carols[0]!.attachments[0]!.url);
    assert.deepEqual(
      buttonIds(view).map((id) => id.split(':')[1]),
      ['reroll', 'remix', 'info', 'delete', 'vary-subtle', 'vary-strong', 'upscale', 'history'],
    );

    // Vary from the history view posts a new public result in the channel, from that picture.
    const varied = await resultOf(discord.clickButton({ user: carol, message: view, customId: button(view, 'vary-subtle') }));
    assert.equal(varied.flags & 64, 0, 'a public result');
    const varyJob = await world.settledJob(jobIdOf(varied));
    assert.deepEqual([varyJob.operation, varyJob.parentJobId], ['vary-subtle', jobIdOf(carols[0]!)]);
    assert.equal(varyJob.sourceImageUrl, carols[0]!.attachments[0]!.url);

    const davesHistory = discord.sendSlashCommand({ user: dave, channelId: channel.id, name: 'history', subcommand: 'show' });
    const davesPage = await historyView(davesHistory, (m) => m.embeds.length > 0);
    assert.deepEqual(
      davesPage.embeds.map((e) => e.title),
      ['1. Imagine: dave picture'],
    );
    assert.equal(davesPage.embeds[0]!.thumbnail?.url, daves.attachments[0]!.url);
    assert.deepEqual(discord.unexpectedRequests(), []);
  });

  it("/history clear: people clear their own, admins anyone's, after a confirmation", async () => {
    const { discord, guild, channel, admin, alice } = world;
    const erin = discord.createUser({ username: 'erin' });
    discord.addMember(guild.id, erin.id);
    await imagine(erin, { prompt: 'erin picture', steps: 2 });

    const refused = discord.sendSlashCommand({
      user: alice,
      channelId: channel.id,
      name: 'history',
      subcommand: 'clear',
      options: { user: erin.id },
    });
    assert.equal(await privateAnswer(refused), "❌ Only members with the Manage Server permission can clear someone else's history.");

    const asked = discord.sendSlashCommand({
      user: admin,
      channelId: channel.id,
      name: 'history',
      subcommand: 'clear',
      options: { user: erin.id },
    });
    const question = await asked.waitForResponse();
    assert.equal(question.type, 4);
    const questionData = question.data as { content?: string; flags?: number };
    assert.equal((questionData.flags ?? 0) & 64, 64);
    assert.match(
      questionData.content ?? '',
      new RegExp(`^🧹 Clear <@${erin.id}>'s picture history in this server\\? .*\\(1 with a picture\\)`, 'u'),
    );
    assert.notEqual(world.jobCounts().succeeded, 0);
    const yes = discord.clickButton({ user: admin, message: asked.original()!, customId: `lc:history:clear:${admin.id}:${erin.id}` });
    const done = await yes.waitForResponse();
    assert.equal(done.type, 7, 'the question is updated in place');
    assert.equal((done.data as { content?: string }).content, '🧹 Cleared: 1 job record deleted.');

    const empty = discord.sendSlashCommand({ user: erin, channelId: channel.id, name: 'history', subcommand: 'show' });
    const emptyView = await historyView(empty, (m) => m.content.length > 0);
    assert.equal(emptyView.content, '🖼️ You have no pictures in this server yet. Try `/imagine`.');
  });

  it('after a restart, Vary, Upscale and /history work on pictures made before it', async () => {
    const { discord, channel, bob } = world;
    const original = await imagine(bob, { prompt: 'an old bridge', seed: '31', steps: 8 });
    assert.equal((await world.stopBot()).code, 0);
    await world.restartBot();

    const varied = await resultOf(discord.clickButton({ user: bob, message: original, customId: button(original, 'vary-strong') }));
    assert.equal((await world.settledJob(jobIdOf(varied))).operation, 'vary-strong');
    const upscaled = await resultOf(discord.clickButton({ user: bob, message: original, customId: button(original, 'upscale') }));
    const png = await picture(attachmentsOf(discord, upscaled)[0]!);
    assert.deepEqual([png.width, png.height], [128, 128]);

    const history = discord.sendSlashCommand({ user: bob, channelId: channel.id, name: 'history', subcommand: 'show' });
    const page = await historyView(history, (m) => m.embeds.length > 0);
    assert.ok(
      page.embeds.some((e) => e.title === `${page.embeds.length}. Imagine: an old bridge` || e.title?.endsWith('Imagine: an old bridge')),
      page.embeds.map((e) => e.title).join(' | '),
    );
    assert.equal(page.embeds[0]!.title, '1. Upscale ×2: an old bridge', 'newest first');
  });
});
