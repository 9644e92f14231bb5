import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideNsfw, spoilerFileName } from '../../src/bot/nsfw-policy.js';
import { settingsWith } from '../settings/settings-fixture.js';

const server = { inServer: true, ageRestricted: false };
const ageRestricted = { inServer: true, ageRestricted: true };
const dm = { inServer: false, ageRestricted: false };

describe('decideNsfw', () => {
  it('shows every picture when nothing was checked or nothing was flagged', () => {
    const settings = settingsWith({});
    assert.deepEqual(decideNsfw(undefined, 2, settings, server), { fates: ['show', 'show'], flagged: 0, blocked: 0 });
    assert.deepEqual(decideNsfw([false, false], 2, settings, server).fates, ['show', 'show']);
  });

  it('outside age-restricted channels a flagged picture follows nsfw; only the flagged ones', () => {
    const blocked = decideNsfw([true, false, true], 3, settingsWith({ nsfw: 'block' }), server);
    assert.deepEqual(blocked.fates, ['block', 'show', 'block']);
    assert.equal(blocked.flagged, 2);
    assert.equal(blocked.blocked, 2);
    assert.match(
      blocked.privateNotice ?? '',
      /flagged 2 of your 3 pictures .* so they were not posted: this server posts flagged pictures only in/,
    );
    const spoilered = decideNsfw([true, false], 2, settingsWith({ nsfw: 'spoiler' }), server);
    assert.deepEqual(spoilered.fates, ['spoiler', 'show']);
    assert.equal(spoilered.privateNotice, undefined, 'nothing withheld, nothing to explain');
  });

  it('in age-restricted channels a flagged picture follows nsfwAgeRestricted, whatever nsfw says', () => {
    for (const action of ['spoiler', 'show', 'block'] as const) {
      const decision = decideNsfw([true], 1, settingsWith({ nsfw: 'block', nsfwAgeRestricted: action }), ageRestricted);
      assert.deepEqual(decision.fates, [action]);
    }
    assert.match(
      decideNsfw([true], 1, settingsWith({ nsfwAgeRestricted: 'block' }), ageRestricted).privateNotice ?? '',
      /^🔞 The safety checker flagged your picture .* not even in age-restricted channels\. It was not kept anywhere\.$/,
    );
  });

  it('direct messages use the defaults they are given (block unless the owner chose spoiler)', () => {
    const decision = decideNsfw([true], 1, settingsWith({ nsfw: 'block' }), dm);
    assert.deepEqual(decision.fates, ['block']);
    assert.match(decision.privateNotice ?? '', /flagged pictures are not sent in direct messages/);
  });
});

describe('spoilerFileName', () => {
  it('puts SPOILER_ in front once', () => {
    assert.equal(spoilerFileName('latentcord-1.png'), 'SPOILER_latentcord-1.png');
    assert.equal(spoilerFileName('SPOILER_latentcord-1.png'), 'SPOILER_latentcord-1.png');
  });
});
