import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { checkChannelAllowed, checkCooldown, checkDMsAllowed, checkUserQueueLimit, cooldownRemainingMs } from '../../src/settings/index.js';
import { settingsWith, testDefaults } from './settings-fixture.js';

function identifierOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    assert.ok(isUserError(error));
    return error.identifier;
  }
  return undefined;
}

describe('access checks', () => {
  it('allows every channel when the list is empty', () => {
    assert.equal(
      identifierOf(() => checkChannelAllowed(testDefaults, { channelId: '5' })),
      undefined,
    );
  });

  it('allows listed channels and threads of listed channels only', () => {
    const settings = settingsWith({ allowedChannels: ['10', '11'] });
    assert.equal(
      identifierOf(() => checkChannelAllowed(settings, { channelId: '11' })),
      undefined,
    );
    assert.equal(
      identifierOf(() => checkChannelAllowed(settings, { channelId: '99', parentChannelId: '10' })),
      undefined,
    );
    assert.equal(
      identifierOf(() => checkChannelAllowed(settings, { channelId: '12', parentChannelId: null })),
      'access.channel',
    );
    assert.throws(() => checkChannelAllowed(settings, { channelId: '12' }), {
      message: 'This server only allows image generation in <#10>, <#11>.',
    });
  });

  it('refuses direct messages unless the configuration allows them', () => {
    assert.equal(
      identifierOf(() => checkDMsAllowed(testDefaults)),
      'access.dm',
    );
    assert.equal(
      identifierOf(() => checkDMsAllowed(settingsWith({ allowDMs: true }))),
      undefined,
    );
  });

  it('counts the cooldown from the last job', () => {
    const settings = settingsWith({ cooldownSeconds: 30 });
    assert.equal(cooldownRemainingMs(settings, undefined, 1_000_000), 0);
    assert.equal(cooldownRemainingMs(settings, 1_000_000, 1_010_000), 20_000);
    assert.equal(cooldownRemainingMs(settings, 1_000_000, 1_030_000), 0);
    assert.equal(cooldownRemainingMs(settingsWith({ cooldownSeconds: 0 }), 1_000_000, 1_000_000), 0);
    assert.throws(() => checkCooldown(settings, 1_000_000, 1_000_500), {
      message: 'Please wait 30 more seconds (the cooldown here is 30 s).',
    });
    assert.throws(() => checkCooldown(settings, 1_000_000, 1_029_500), {
      message: 'Please wait 1 more second (the cooldown here is 30 s).',
    });
    assert.equal(
      identifierOf(() => checkCooldown(settings, 1_000_000, 1_030_000)),
      undefined,
    );
  });

  it('limits jobs per user', () => {
    const settings = settingsWith({ userQueueLimit: 2 });
    assert.equal(
      identifierOf(() => checkUserQueueLimit(settings, 1)),
      undefined,
    );
    assert.equal(
      identifierOf(() => checkUserQueueLimit(settings, 2)),
      'access.userQueueLimit',
    );
  });
});
