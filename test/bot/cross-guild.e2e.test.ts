import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiAttachment, ApiChannel, ApiMessage, ApiUser } from '../fake-discord/api-types.js';
import type { FakeGuild } from '../fake-discord/index.js';
import { buttonIds, privateAnswerOf, resultOf, startBotWorld, type BotWorld } from './bot-world.js';

/**
 * Issue 9 item 7 (the bot's half): ids in a form's `custom_id` come from the client. The Apps › Remix form names
 * the channel and message to remix, the result's Remix form names a job; both were read without checking that
 * they belong to the server (and channel) the form came from, so a forged id remixed another server's private
 * picture into this one.
 */

function jobIdOf(message: ApiMessage): string {
  const id = buttonIds(message)[0];
  assert.ok(id, `buttons on: ${message.content}`);
  return id.split(':')[2]!;
}

describe('forms and buttons only reach pictures of their own server and channels the user can see', () => {
  let world: BotWorld;
  let other: FakeGuild;
  let secretChannel: ApiChannel;
  let staffChannel: ApiChannel;
  let secret: ApiMessage;
  let staffOnly: ApiMessage;
  let stranger: ApiUser;

  /** CDN downloads of an attachment so far. */
  const downloadsOf = (attachment: ApiAttachment) =>
    world.discord.requests.filter((r) => r.kind === 'cdn' && r.path.includes(`/${attachment.id}/`)).length;

  /** Alice sends a remix form with a `custom_id` of her making in #general; resolves with the private answer. */
  const forgedForm = (customId: string, user: ApiUser = world.alice, channelId: string = world.channel.id) =>
    privateAnswerOf(world.discord.submitModal({ user, channelId, customId, fields: { prompt: 'show me', strength: '0.5' } }), 30_000);

  before(async () => {
    world = await startBotWorld();
    const { discord, guild } = world;
    other = discord.createGuild({ name: 'Other Guild' });
    const botCanPost = [
      'ViewChannel',
      'SendMessages',
      'AttachFiles',
      'ReadMessageHistory',
      'EmbedLinks',
      'UseApplicationCommands',
    ] as const;
    secretChannel = discord.createChannel(other.id, { name: 'secret', everyonePermissions: [], botPermissions: botCanPost });
    stranger = discord.createUser({ username: 'stranger' });
    discord.addMember(other.id, stranger.id, { permissions: ['Administrator'] });
    staffChannel = discord.createChannel(guild.id, { name: 'staff', everyonePermissions: [], botPermissions: botCanPost });
    // The bot's own results: messages it can always read back (without the Message Content intent, pictures that
    // people posted come without their attachments when fetched).
    const imagine = (user: string, channelId: string, prompt: string) =>
      resultOf(discord.sendSlashCommand({ user, channelId, name: 'imagine', options: { prompt } }));
    secret = await imagine(stranger.id, secretChannel.id, 'their secret');
    staffOnly = await imagine(guild.ownerId, staffChannel.id, 'staff only');
    for (const result of [secret, staffOnly]) {
      assert.equal(result.attachments.length, 1, result.content);
      await world.waitForJob(jobIdOf(result), (job) => job.resultMessageId !== null, 'its result message is recorded');
    }
  });
  after(async () => {
    await world?.close();
  });

  it('Apps › Remix form naming a message of another server is refused and nothing is downloaded', async () => {
    const answer = await forgedForm(`lc:remix-message-modal:${secretChannel.id}:${secret.id}`);
    assert.equal(answer, '❌ I can only remix a picture from a channel of this server that you can see.');
    assert.equal(downloadsOf(secret.attachments[0]!), 0, 'the private picture was not fetched');
  });

  it('Apps › Remix form naming a channel of this server the user cannot see is refused', async () => {
    assert.equal(world.discord.permissionsOf(world.alice, staffChannel).names.includes('ViewChannel'), false);
    const answer = await forgedForm(`lc:remix-message-modal:${staffChannel.id}:${staffOnly.id}`);
    assert.equal(answer, '❌ I can only remix a picture from a channel of this server that you can see.');
    assert.equal(downloadsOf(staffOnly.attachments[0]!), 0);
  });

  it("a result's Remix form naming a job of another server, or of someone else's direct messages, is refused", async () => {
    const { discord, alice, bob } = world;
    const answer = await forgedForm(`lc:remix-modal:${jobIdOf(secret)}`);
    assert.equal(answer, '❌ That picture was made somewhere else; its buttons and forms only work where it was posted.');
    assert.equal(downloadsOf(secret.attachments[0]!), 0);

    const bobDm = discord.openDm(bob);
    const bobs = await resultOf(
      discord.sendSlashCommand({ user: bob, channelId: bobDm.id, name: 'imagine', options: { prompt: 'bob alone' } }),
    );
    assert.equal(bobs.attachments.length, 1, bobs.content);
    await world.waitForJob(jobIdOf(bobs), (job) => job.resultMessageId !== null, 'its result message is recorded');
    const aliceDm = discord.openDm(alice);
    const inDm = await forgedForm(`lc:remix-modal:${jobIdOf(bobs)}`, alice, aliceDm.id);
    assert.equal(inDm, '❌ That picture was made somewhere else; its buttons and forms only work where it was posted.');
    assert.equal(downloadsOf(bobs.attachments[0]!), 0);
  });

  it('the same forms still work for a picture here (the check lets the real case through)', async () => {
    const { discord, alice, channel } = world;
    const mine = await resultOf(
      discord.sendSlashCommand({ user: alice, channelId: channel.id, name: 'imagine', options: { prompt: 'mine' } }),
    );
    // A form sent without its button's message finds the picture through the job's record.
    await world.waitForJob(jobIdOf(mine), (job) => job.resultMessageId !== null, 'its result message is recorded');
    const viaButton = await resultOf(
      discord.submitModal({
        user: alice,
        channelId: channel.id,
        customId: `lc:remix-modal:${jobIdOf(mine)}`,
        fields: { prompt: 'mine again', strength: '0.5' },
      }),
    );
    assert.equal(viaButton.attachments.length, 1, viaButton.content);
    const viaApps = await resultOf(
      discord.submitModal({
        user: alice,
        channelId: channel.id,
        customId: `lc:remix-message-modal:${channel.id}:${mine.id}`,
        fields: { prompt: 'mine once more', strength: '0.5' },
      }),
    );
    assert.equal(viaApps.attachments.length, 1, viaApps.content);
  });
});
