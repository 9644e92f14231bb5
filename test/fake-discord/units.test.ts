import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermissionFlagsBits } from 'discord.js';
import sharp from 'sharp';
import { DiscordHttpError, nestFormErrors } from './http-errors.js';
import { imageSize } from './image-size.js';
import { parseMessageInput } from './message-input.js';
import { parseMultipart, multipartBoundary } from './multipart.js';
import { ALL_PERMISSIONS, computeChannelPermissions, PermissionFlags, resolvePermissions, type PermissionSubject } from './permissions.js';
import { RateLimiter } from './rate-limit.js';
import { normalizeCommand } from './routes-commands.js';
import { isSnowflake, SnowflakeGenerator, snowflakeTimestamp } from './snowflake.js';

describe('fake Discord building blocks', () => {
  it('permission bits match discord.js PermissionFlagsBits', () => {
    for (const [name, bit] of Object.entries(PermissionFlags)) {
      assert.equal(bit, (PermissionFlagsBits as Record<string, bigint>)[name], name);
    }
  });

  it('permission algorithm: roles, @everyone / role / member overwrites, admin, owner, implicit denials', () => {
    const guildId = '100000000000000000';
    const role = '200000000000000000';
    const user = '300000000000000000';
    const base: PermissionSubject = {
      guildId,
      ownerId: '999999999999999999',
      userId: user,
      rolePermissions: new Map([
        [guildId, PermissionFlags.ViewChannel | PermissionFlags.SendMessages | PermissionFlags.AttachFiles],
        [role, PermissionFlags.EmbedLinks],
      ]),
      memberRoles: [role],
    };
    const all = PermissionFlags.ViewChannel | PermissionFlags.SendMessages | PermissionFlags.AttachFiles | PermissionFlags.EmbedLinks;
    assert.equal(computeChannelPermissions(base, []), all);
    const denyEveryoneSend = { id: guildId, type: 0 as const, allow: 0n, deny: PermissionFlags.SendMessages };
    assert.equal(
      computeChannelPermissions(base, [denyEveryoneSend]),
      PermissionFlags.ViewChannel,
      'no SEND_MESSAGES also voids ATTACH_FILES and EMBED_LINKS',
    );
    const roleAllowsSend = { id: role, type: 0 as const, allow: PermissionFlags.SendMessages, deny: 0n };
    assert.equal(computeChannelPermissions(base, [denyEveryoneSend, roleAllowsSend]), all, 'role overwrites beat @everyone');
    const memberDeniesView = { id: user, type: 1 as const, allow: 0n, deny: PermissionFlags.ViewChannel };
    assert.equal(computeChannelPermissions(base, [roleAllowsSend, memberDeniesView]), 0n, 'no VIEW_CHANNEL means nothing');
    const admin = {
      ...base,
      rolePermissions: new Map([
        [guildId, 0n],
        [role, PermissionFlags.Administrator],
      ]),
    };
    assert.equal(computeChannelPermissions(admin, [memberDeniesView]), ALL_PERMISSIONS);
    assert.equal(computeChannelPermissions({ ...base, ownerId: user }, [memberDeniesView]), ALL_PERMISSIONS);
    assert.equal(resolvePermissions(['ViewChannel', 'SendMessages']), PermissionFlags.ViewChannel | PermissionFlags.SendMessages);
    assert.equal(resolvePermissions('3072'), 3072n);
    assert.throws(() => resolvePermissions(['Nope' as 'ViewChannel']), /unknown permission/);
  });

  it('multipart parser reads what undici FormData sends', async () => {
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ content: 'hi "there"' }));
    form.append('files[0]', new Blob([Buffer.from([0, 1, 2, 13, 10, 45, 45])], { type: 'image/png' }), 'a "quoted".png');
    form.append('files[1]', new Blob(['text']), 'b.txt');
    const request = new Request('http://localhost/', { method: 'POST', body: form });
    const boundary = multipartBoundary(request.headers.get('content-type') ?? undefined);
    assert.ok(boundary);
    const parsed = parseMultipart(Buffer.from(await request.arrayBuffer()), boundary);
    assert.equal(parsed.fields.get('payload_json'), JSON.stringify({ content: 'hi "there"' }));
    assert.deepEqual(
      parsed.files.map((f) => [f.field, f.filename, f.contentType, [...f.data]]),
      [
        ['files[0]', 'a "quoted".png', 'image/png', [0, 1, 2, 13, 10, 45, 45]],
        ['files[1]', 'b.txt', 'application/octet-stream', [...Buffer.from('text')]],
      ],
    );
    assert.equal(multipartBoundary('application/json'), null);
  });

  it('image sizes of PNG, JPEG, GIF, WebP', async () => {
    for (const format of ['png', 'jpeg', 'gif', 'webp'] as const) {
      const data = await sharp({ create: { width: 37, height: 23, channels: 3, background: '#123456' } })
        .toFormat(format)
        .toBuffer();
      assert.deepEqual(imageSize(data), { width: 37, height: 23 }, format);
    }
    assert.equal(imageSize(Buffer.from('not an image')), null);
  });

  it('rate limiter: per-major buckets, headers, 429 with retry_after, window reset, global limit', () => {
    const limiter = new RateLimiter([{ route: 'POST /channels/:channelId/messages', limit: 2, windowMs: 1000 }]);
    const request = (major: string) => ({
      method: 'POST',
      route: '/channels/:channelId/messages',
      path: `/channels/${major}/messages`,
      major,
    });
    const first = limiter.check(request('1'), 10_000);
    assert.equal(first.limited, null);
    assert.equal(first.headers['X-RateLimit-Limit'], '2');
    assert.equal(first.headers['X-RateLimit-Remaining'], '1');
    assert.equal(first.headers['X-RateLimit-Reset-After'], '1.000');
    assert.match(first.headers['X-RateLimit-Bucket'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(limiter.check(request('1'), 10_100).headers['X-RateLimit-Remaining'], '0');
    const third = limiter.check(request('1'), 10_400);
    assert.equal(third.limited?.retryAfterMs, 600);
    assert.equal(third.headers['Retry-After'], '1', 'whole seconds, rounded up, as Discord sends it');
    assert.deepEqual(third.limited?.body, { message: 'You are being rate limited.', retry_after: 0.6, global: false });
    assert.equal(limiter.check(request('2'), 10_400).limited, null, 'another channel has its own bucket');
    assert.equal(limiter.check(request('1'), 11_000).limited, null, 'the window reset');
    assert.equal(
      limiter.check({ method: 'GET', route: '/users/@me', path: '/users/@me', major: '' }, 10_000).headers['X-RateLimit-Limit'],
      undefined,
    );

    const precise = new RateLimiter([{ route: '/x', limit: 0, windowMs: 250 }], null, 'milliseconds');
    assert.equal(precise.check({ method: 'GET', route: '/x', path: '/x', major: '' }, 0).headers['Retry-After'], '0.250');

    const global = new RateLimiter([], { limit: 1, windowMs: 1000 });
    assert.equal(global.check(request('1'), 0).limited, null);
    const blocked = global.check(request('9'), 500);
    assert.equal(blocked.limited?.global, true);
    assert.equal(blocked.headers['X-RateLimit-Global'], 'true');
  });

  it('message validation: limits and Discord error shapes', () => {
    const limits = { attachmentSizeLimit: 10, maxFiles: 2 };
    const errorOf = (fn: () => unknown): DiscordHttpError => {
      try {
        fn();
      } catch (error) {
        assert.ok(error instanceof DiscordHttpError);
        return error;
      }
      assert.fail('no error');
    };
    assert.equal(errorOf(() => parseMessageInput({ content: '' }, [], limits, 'create')).code, 50006);
    const long = errorOf(() => parseMessageInput({ content: 'x'.repeat(2001) }, [], limits, 'create'));
    assert.equal(long.code, 50035);
    assert.deepEqual(long.body.errors, {
      content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] },
    });
    const big = errorOf(() =>
      parseMessageInput({}, [{ field: 'files[0]', filename: 'a', contentType: 'x', data: Buffer.alloc(11) }], limits, 'create'),
    );
    assert.deepEqual([big.status, big.code], [413, 40005]);
    const buttons = errorOf(() =>
      parseMessageInput(
        {
          components: [
            {
              type: 1,
              components: [
                { type: 2, style: 1, label: 'a', custom_id: 'x' },
                { type: 2, style: 1, label: 'b', custom_id: 'x' },
                { type: 2, style: 5, label: 'c' },
              ],
            },
          ],
        },
        [],
        limits,
        'create',
      ),
    );
    assert.deepEqual(Object.keys((buttons.body.errors as { components: { 0: { components: object } } }).components[0].components), [
      '1',
      '2',
    ]);
    assert.equal(parseMessageInput({ content: 'ok', embeds: [{ title: 't' }] }, [], limits, 'create').content, 'ok');
    assert.deepEqual(nestFormErrors([{ path: '', code: 'X', message: 'y' }]), { _errors: [{ code: 'X', message: 'y' }] });
  });

  it('command validation follows Discord naming rules', () => {
    const ok = normalizeCommand(
      { name: 'imagine', description: 'Draw', options: [{ type: 3, name: 'prompt', description: 'p', required: true }] },
      '1',
      null,
    );
    assert.equal(ok.type, 1);
    assert.equal(ok.dm_permission, true);
    assert.equal(normalizeCommand({ name: 'Upscale This', type: 3 }, '1', '2').guild_id, '2');
    for (const bad of [
      { name: 'Imagine', description: 'x' },
      { name: 'has space', description: 'x' },
      { name: 'x'.repeat(33), description: 'x' },
      { name: 'ok' },
    ]) {
      assert.throws(
        () => normalizeCommand(bad, '1', null),
        (e: unknown) => e instanceof DiscordHttpError && e.code === 50035,
        JSON.stringify(bad),
      );
    }
  });

  it('snowflakes: unique, increasing, 19 digits, carrying their time', () => {
    const generator = new SnowflakeGenerator();
    const now = Date.now();
    const ids = Array.from({ length: 5000 }, () => generator.next(now));
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.every((id, i) => i === 0 || BigInt(id) > BigInt(ids[i - 1]!)));
    assert.ok(ids.every(isSnowflake));
    assert.equal(ids[0]!.length, 19);
    assert.equal(snowflakeTimestamp(ids[0]!), now);
  });
});
