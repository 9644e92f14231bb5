import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  DiscordAPIError,
  Events,
  LabelBuilder,
  MessageFlags,
  ModalBuilder,
  Routes,
  StringSelectMenuBuilder,
  TextInputBuilder,
  TextInputStyle,
  type Interaction,
} from 'discord.js';
import sharp from 'sharp';
import { deferred, sleep, startBotFixture } from './harness.js';

const imagine = {
  name: 'imagine',
  description: 'Make a picture',
  options: [
    { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What to draw', required: true },
    { type: ApplicationCommandOptionType.Integer, name: 'steps', description: 'Steps', required: false },
    { type: ApplicationCommandOptionType.Attachment, name: 'image', description: 'Init image', required: false },
  ],
} as const;

function redSquare(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
}

/** Runs the bot-side handler and reports its failure (an unhandled rejection would not fail the test). */
function onInteraction(
  client: { on(event: typeof Events.InteractionCreate, fn: (i: Interaction) => void): unknown },
  handler: (i: Interaction) => Promise<void>,
) {
  const failures = deferred<never>();
  client.on(Events.InteractionCreate, (interaction) => {
    handler(interaction).catch((error: unknown) => failures.reject(error));
  });
  failures.promise.catch(() => undefined);
  return failures.promise;
}

describe('fake Discord interactions with a real discord.js client', () => {
  it('slash command: deferReply, then editReply with a PNG via multipart, then an ephemeral followUp', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      const png = await redSquare();
      const botFailure = onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        await interaction.deferReply();
        const prompt = interaction.options.getString('prompt', true);
        const steps = interaction.options.getInteger('steps');
        await interaction.editReply({
          content: `done: ${prompt} (${steps} steps)`,
          files: [new AttachmentBuilder(png, { name: 'result.png' })],
        });
        await interaction.followUp({ content: 'seed 42', flags: MessageFlags.Ephemeral });
      });
      const handle = f.discord.sendSlashCommand({
        user: f.user,
        channelId: f.channel,
        name: 'imagine',
        options: { prompt: 'a red square', steps: 20 },
      });
      assert.equal((handle.payload.data as { options: unknown[] }).options.length, 2);

      const response = await Promise.race([handle.waitForResponse(), botFailure]);
      assert.equal(response.type, 5);
      const original = await handle.waitForOriginal((m) => m.attachments.length === 1);
      assert.equal(original.content, 'done: a red square (20 steps)');
      assert.equal(original.flags & MessageFlags.Loading, 0);
      assert.equal(original.type, 20);
      const attachment = original.attachments[0]!;
      assert.equal(attachment.filename, 'result.png');
      assert.equal(attachment.content_type, 'image/png');
      assert.equal(attachment.size, png.length);
      assert.equal(attachment.width, 64);
      assert.equal(attachment.height, 48);
      assert.ok(attachment.url.startsWith(`${f.discord.cdnUrl}/attachments/`), attachment.url);
      const downloaded = Buffer.from(await (await fetch(attachment.url)).arrayBuffer());
      assert.ok(downloaded.equals(png), 'the CDN serves the uploaded bytes');

      const edit = f.discord.requests.find((r) => r.route === 'PATCH /webhooks/:applicationId/:token/messages/:messageId');
      assert.ok(edit, 'editReply went to the webhook route');
      assert.match(edit.path, /\/messages\/(@|%40)original$/, edit.path);
      assert.equal(edit.auth, 'none');
      assert.deepEqual(
        edit.files.map((file) => [file.field, file.filename, file.contentType, file.size]),
        [['files[0]', 'result.png', 'image/png', png.length]],
      );
      assert.deepEqual(
        (edit.json as { attachments: Array<{ id: string }> }).attachments.map((a) => a.id),
        ['0'],
      );

      const followUp = await handle.waitForFollowUp();
      assert.equal(followUp.content, 'seed 42');
      assert.equal(followUp.flags & MessageFlags.Ephemeral, MessageFlags.Ephemeral);
      assert.deepEqual(
        handle.steps.map((s) => s.kind),
        ['callback', 'originalEdited', 'followUp'],
      );
      assert.ok(handle.steps.every((s, i) => i === 0 || s.at >= handle.steps[i - 1]!.at));
      assert.deepEqual(
        f.discord.messages(f.channel).map((m) => m.id),
        [original.id],
        'the ephemeral follow-up is not a channel message',
      );
      assert.deepEqual(f.discord.unexpectedRequests(), []);
    } finally {
      await f.close();
    }
  });

  it('attachment option: resolved.attachments points at the CDN and the bot can download it', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      const png = await redSquare(32, 16);
      const seen = deferred<{ name: string; width: number | null; bytes: Buffer }>();
      onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        const image = interaction.options.getAttachment('image', true);
        const bytes = Buffer.from(await (await fetch(image.url)).arrayBuffer());
        seen.resolve({ name: image.name, width: image.width, bytes });
        await interaction.reply({ content: 'ok', flags: MessageFlags.Ephemeral });
      }).catch(seen.reject);
      const handle = f.discord.sendSlashCommand({
        user: f.user,
        channelId: f.channel.id,
        name: 'imagine',
        options: { prompt: 'x', image: { data: png, filename: 'init image.png' } },
      });
      const result = await seen.promise;
      assert.equal(result.name, 'init_image.png');
      assert.equal(result.width, 32);
      assert.ok(result.bytes.equals(png));
      const reply = await handle.waitForOriginal();
      assert.equal(reply.flags & MessageFlags.Ephemeral, MessageFlags.Ephemeral);
      assert.equal(f.discord.messages(f.channel).length, 0);
    } finally {
      await f.close();
    }
  });

  it('strict commands: unregistered commands, unknown options and missing required options are refused', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      assert.throws(() => f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'nope' }), /not registered/);
      assert.throws(
        () => f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'x', seed: 1 } }),
        /"seed" is not defined/,
      );
      assert.throws(
        () => f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { steps: 3 } }),
        /required option "prompt"/,
      );
      assert.throws(
        () => f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'x', steps: 1.5 } }),
        /integer/,
      );
    } finally {
      await f.close();
    }
  });

  it('modal: showModal (labels with text input and select), then the user submits it', async () => {
    const f = await startBotFixture({ commands: [{ name: 'settings', description: 'Edit settings' }] });
    try {
      const botFailure = onInteraction(f.client, async (interaction) => {
        if (interaction.isChatInputCommand()) {
          const modal = new ModalBuilder()
            .setCustomId('settings-modal')
            .setTitle('Settings')
            .addLabelComponents(
              new LabelBuilder()
                .setLabel('Steps')
                .setTextInputComponent(new TextInputBuilder().setCustomId('steps').setStyle(TextInputStyle.Short).setRequired(true)),
              new LabelBuilder()
                .setLabel('Scheduler')
                .setStringSelectMenuComponent(
                  new StringSelectMenuBuilder()
                    .setCustomId('scheduler')
                    .addOptions({ label: 'Euler', value: 'euler' }, { label: 'DDIM', value: 'ddim' }),
                ),
            );
          await interaction.showModal(modal);
        } else if (interaction.isModalSubmit()) {
          const steps = interaction.fields.getTextInputValue('steps');
          const scheduler = interaction.fields.getStringSelectValues('scheduler').join(',');
          await interaction.reply({ content: `steps=${steps} scheduler=${scheduler}` });
        }
      });
      const command = f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'settings' });
      const response = await Promise.race([command.waitForResponse(), botFailure]);
      assert.equal(response.type, 9);
      assert.equal(command.modal?.custom_id, 'settings-modal');
      assert.equal(command.original(), null, 'a modal creates no message');
      assert.throws(() => f.discord.submitModal({ from: command, fields: { scheduler: ['ddim'] } }), /"steps" is required/);
      assert.throws(() => f.discord.submitModal({ from: command, fields: { steps: '3', colour: 'red' } }), /no field "colour"/);
      const submit = f.discord.submitModal({ from: command, fields: { steps: '30', scheduler: ['ddim'] } });
      const reply = await Promise.race([submit.waitForOriginal(), botFailure]);
      assert.equal(reply.content, 'steps=30 scheduler=ddim');
      assert.equal(submit.payload.type, 5);
    } finally {
      await f.close();
    }
  });

  it('button: the click updates the message it is on (callback type 7), then editReply edits that message', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder().setCustomId('again').setLabel('Again').setStyle(ButtonStyle.Primary),
        new ButtonBuilder().setLabel('Docs').setStyle(ButtonStyle.Link).setURL('https://example.invalid/docs'),
      );
      const botFailure = onInteraction(f.client, async (interaction) => {
        if (interaction.isChatInputCommand()) {
          await interaction.reply({ content: 'v1', components: [row] });
        } else if (interaction.isButton()) {
          await interaction.update({ content: `v2 by ${interaction.user.username}`, components: [] });
          await interaction.editReply({ content: 'v3' });
        }
      });
      const command = f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'x' } });
      const message = await Promise.race([command.waitForOriginal(), botFailure]);
      assert.equal(message.components.length, 1);
      assert.throws(() => f.discord.clickButton({ user: f.user, message, customId: 'nope' }), /no such component/);
      const click = f.discord.clickButton({ user: f.user, message, customId: 'again' });
      assert.equal((click.payload.message as { id: string }).id, message.id);
      const response = await Promise.race([click.waitForResponse(), botFailure]);
      assert.equal(response.type, 7);
      const edited = await click.waitForOriginal((m) => m.content === 'v3');
      assert.equal(edited.id, message.id, '@original of a component interaction is the clicked message');
      assert.deepEqual(edited.components, []);
      assert.equal(f.discord.message(message.id)?.content, 'v3');
      assert.notEqual(edited.edited_timestamp, null);
    } finally {
      await f.close();
    }
  });

  it('three-second rule: a late deferReply fails with 10062 Unknown interaction', async () => {
    const f = await startBotFixture({ commands: [imagine], fake: { interactionAckTimeoutMs: 150 } });
    try {
      const seen = deferred<unknown>();
      onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        await sleep(400);
        await interaction.deferReply().then(
          () => seen.resolve('no error'),
          (error: unknown) => seen.resolve(error),
        );
      }).catch(seen.reject);
      const handle = f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'x' } });
      const error = await seen.promise;
      assert.ok(error instanceof DiscordAPIError, String(error));
      assert.equal(error.code, 10062);
      assert.equal(error.status, 404);
      assert.equal(error.message, 'Unknown interaction');
      const step = await handle.waitFor((s) => s.kind === 'callbackRejected');
      assert.equal(step.kind === 'callbackRejected' && step.code, 10062);
      assert.equal(handle.response, null);
    } finally {
      await f.close();
    }
  });

  it('double acknowledgement: the second callback fails with 40060', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      const seen = deferred<unknown>();
      onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        await interaction.deferReply();
        // discord.js itself refuses a second reply, so the second callback goes through its REST client directly.
        await f.client.rest
          .post(Routes.interactionCallback(interaction.id, interaction.token), {
            body: { type: 4, data: { content: 'again' } },
            auth: false,
          })
          .then(
            () => seen.resolve('no error'),
            (error: unknown) => seen.resolve(error),
          );
      }).catch(seen.reject);
      const handle = f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'x' } });
      const error = await seen.promise;
      assert.ok(error instanceof DiscordAPIError, String(error));
      assert.equal(error.code, 40060);
      assert.equal(error.status, 400);
      assert.deepEqual(
        handle.steps.map((s) => s.kind),
        ['callback', 'callbackRejected'],
      );
      assert.equal(handle.response?.type, 5);
    } finally {
      await f.close();
    }
  });

  it('webhook calls before the acknowledgement fail with 10015 Unknown Webhook', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      const seen = deferred<unknown>();
      onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        const early = await f.client.rest
          .patch(Routes.webhookMessage(interaction.applicationId, interaction.token), { body: { content: 'early' }, auth: false })
          .then(
            () => 'no error',
            (error: unknown) => error,
          );
        await interaction.reply('ok');
        seen.resolve(early);
      }).catch(seen.reject);
      const handle = f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'x' } });
      const error = await seen.promise;
      assert.ok(error instanceof DiscordAPIError && error.code === 10015, String(error));
      assert.deepEqual(
        handle.steps.map((s) => s.kind),
        ['webhookRejected', 'callback'],
      );
    } finally {
      await f.close();
    }
  });

  it('expired token: editReply after the token lifetime fails with 401/50027', async () => {
    const f = await startBotFixture({ commands: [imagine], fake: { interactionTokenLifetimeMs: 200 } });
    try {
      const seen = deferred<unknown>();
      onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        await interaction.deferReply();
        await sleep(400);
        await interaction.editReply('too late').then(
          () => seen.resolve('no error'),
          (error: unknown) => seen.resolve(error),
        );
      }).catch(seen.reject);
      const handle = f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'x' } });
      const error = await seen.promise;
      assert.ok(error instanceof DiscordAPIError, String(error));
      assert.equal(error.code, 50027);
      assert.equal(error.status, 401);
      const original = handle.original();
      assert.equal((original?.flags ?? 0) & MessageFlags.Loading, MessageFlags.Loading, 'the reply stays "thinking"');
    } finally {
      await f.close();
    }
  });

  it('upload limits: a file over attachment_size_limit gets 413/40005, eleven files get 50035', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      const seen = deferred<{ tooBig: unknown; tooMany: unknown; limit: number }>();
      onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        await interaction.deferReply();
        const limit = interaction.attachmentSizeLimit;
        const tooBig = await interaction.editReply({ files: [new AttachmentBuilder(Buffer.alloc(limit + 1), { name: 'big.bin' })] }).then(
          () => 'no error',
          (e: unknown) => e,
        );
        const files = Array.from({ length: 11 }, (_, i) => new AttachmentBuilder(Buffer.from([i]), { name: `f${i}.bin` }));
        const tooMany = await interaction.editReply({ files }).then(
          () => 'no error',
          (e: unknown) => e,
        );
        seen.resolve({ tooBig, tooMany, limit });
      }).catch(seen.reject);
      f.discord.sendSlashCommand({
        user: f.user,
        channelId: f.channel,
        name: 'imagine',
        options: { prompt: 'x' },
        attachmentSizeLimit: 4096,
      });
      const { tooBig, tooMany, limit } = await seen.promise;
      assert.equal(limit, 4096);
      assert.ok(tooBig instanceof DiscordAPIError, String(tooBig));
      assert.equal(tooBig.status, 413);
      assert.equal(tooBig.code, 40005);
      assert.ok(tooMany instanceof DiscordAPIError, String(tooMany));
      assert.equal(tooMany.code, 50035);
      assert.match(tooMany.message, /attachments/);
    } finally {
      await f.close();
    }
  });

  it('first followUp after a deferral fills the "thinking" message; later ones are new messages', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      const done = deferred<string[]>();
      onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        await interaction.deferReply({ flags: MessageFlags.Ephemeral });
        const first = await interaction.followUp('first');
        const second = await interaction.followUp('second');
        done.resolve([first.id, second.id]);
      }).catch(done.reject);
      const handle = f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'x' } });
      const [firstId, secondId] = await done.promise;
      const original = handle.original();
      assert.equal(original?.id, firstId);
      assert.equal(original?.content, 'first');
      assert.equal((original?.flags ?? 0) & MessageFlags.Ephemeral, MessageFlags.Ephemeral, 'keeps the ephemeral flag of the deferral');
      assert.deepEqual(
        handle.followUps().map((m) => m.id),
        [secondId],
      );
      const steps = handle.steps.filter((s) => s.kind === 'followUp');
      assert.deepEqual(
        steps.map((s) => s.kind === 'followUp' && s.filledOriginal),
        [true, false],
      );
    } finally {
      await f.close();
    }
  });

  it('withResponse: the callback answers with the interaction callback resource', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      type Seen = {
        messageId: string | undefined;
        content: string | undefined;
        type: number | undefined;
        loading: boolean | null;
        responseId: string | null;
      };
      const seen: Seen[] = [];
      const two = deferred<void>();
      onInteraction(f.client, async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        const response =
          interaction.options.getString('prompt') === 'defer'
            ? await interaction.deferReply({ withResponse: true })
            : await interaction.reply({ content: 'hello', withResponse: true });
        seen.push({
          messageId: response.resource?.message?.id,
          content: response.resource?.message?.content,
          type: response.resource?.type,
          loading: response.interaction.responseMessageLoading,
          responseId: response.interaction.responseMessageId,
        });
        if (seen.length === 2) two.resolve();
      }).catch(two.reject);
      const replied = f.discord.sendSlashCommand({ user: f.user, channelId: f.channel, name: 'imagine', options: { prompt: 'reply' } });
      await replied.waitForResponse();
      const deferredHandle = f.discord.sendSlashCommand({
        user: f.user,
        channelId: f.channel,
        name: 'imagine',
        options: { prompt: 'defer' },
      });
      await two.promise;
      assert.deepEqual(seen[0], {
        messageId: replied.original()?.id,
        content: 'hello',
        type: 4,
        loading: false,
        responseId: replied.original()?.id,
      });
      assert.deepEqual(seen[1], {
        messageId: undefined,
        content: undefined,
        type: 5,
        loading: true,
        responseId: deferredHandle.original()?.id,
      });
      const request = f.discord.requests.find((r) => r.route === 'POST /interactions/:interactionId/:token/callback');
      assert.equal(request?.query.with_response, 'true');
      assert.equal(request?.status, 200);
    } finally {
      await f.close();
    }
  });

  it('autocomplete and message context-menu commands', async () => {
    const f = await startBotFixture({
      commands: [
        {
          name: 'model',
          description: 'Pick a model',
          options: [{ type: ApplicationCommandOptionType.String, name: 'name', description: 'Model', required: true, autocomplete: true }],
        },
        { name: 'Upscale', type: ApplicationCommandType.Message },
      ],
    });
    try {
      const botFailure = onInteraction(f.client, async (interaction) => {
        if (interaction.isAutocomplete()) {
          const typed = interaction.options.getFocused();
          await interaction.respond([{ name: `${typed}-v1-5`, value: `${typed}-v1-5` }]);
        } else if (interaction.isMessageContextMenuCommand()) {
          await interaction.reply({ content: `upscaling ${interaction.targetMessage.id}: ${interaction.targetMessage.content}` });
        }
      });
      const auto = f.discord.sendAutocomplete({
        user: f.user,
        channelId: f.channel,
        name: 'model',
        options: { name: 'sd' },
        focused: 'name',
      });
      const choices = await Promise.race([auto.waitForResponse(), botFailure]);
      assert.equal(choices.type, 8);
      assert.deepEqual(choices.data, { choices: [{ name: 'sd-v1-5', value: 'sd-v1-5' }] });

      const target = f.discord.postMessage({ user: f.user, channelId: f.channel, content: 'a picture' });
      const context = f.discord.sendMessageCommand({ user: f.user, targetMessage: target, name: 'Upscale' });
      const reply = await Promise.race([context.waitForOriginal(), botFailure]);
      assert.equal(reply.content, `upscaling ${target.id}: a picture`);
      assert.equal(reply.type, 23);
    } finally {
      await f.close();
    }
  });

  it('payload fields: member permissions, app_permissions, locale, context, entitlements, size limit', async () => {
    const f = await startBotFixture({ commands: [imagine] });
    try {
      const seen = deferred<Interaction>();
      f.client.on(Events.InteractionCreate, (interaction) => seen.resolve(interaction));
      const admin = f.discord.createUser({ username: 'root' });
      f.discord.addMember(f.guild, admin, { permissions: ['Administrator'] });
      const handle = f.discord.sendSlashCommand({
        user: admin,
        channelId: f.channel,
        name: 'imagine',
        options: { prompt: 'x' },
        locale: 'de',
      });
      const interaction = await seen.promise;
      assert.ok(interaction.isChatInputCommand());
      assert.equal(interaction.locale, 'de');
      assert.equal(interaction.guildId, f.guild.id);
      assert.equal(interaction.channelId, f.channel.id);
      assert.equal(interaction.memberPermissions?.has('Administrator'), true);
      assert.equal(interaction.appPermissions.has('SendMessages'), true);
      assert.equal(interaction.appPermissions.has('ManageGuild'), false);
      assert.equal(interaction.context, 0);
      assert.equal(interaction.attachmentSizeLimit, 10 * 1024 * 1024);
      assert.equal(interaction.entitlements.size, 0);
      assert.equal(interaction.authorizingIntegrationOwners.guildId, f.guild.id);
      assert.equal(handle.payload.app_permissions as string, f.discord.permissionsOf(f.discord.botUser, f.channel).bits.toString());
      await interaction.reply('ok');
    } finally {
      await f.close();
    }
  });
});
