import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkJobIsHere } from '../../src/bot/source-access.js';
import { isUserError } from '../../src/errors.js';

const otherPlace = (error: unknown) => isUserError(error) && error.identifier === 'access.otherPlace';

describe('checkJobIsHere (every button and form that names a job: Reroll, Remix, Info, Delete, Cancel)', () => {
  it('lets a job through in the server it was asked for in, from any of its channels', () => {
    checkJobIsHere({ guildId: 'g1', channelId: 'c1' }, { guildId: 'g1', channelId: 'c1' });
    checkJobIsHere({ guildId: 'g1', channelId: 'c1' }, { guildId: 'g1', channelId: 'c2' });
  });

  it('refuses a job of another server, and a server job from direct messages or the other way round', () => {
    assert.throws(() => checkJobIsHere({ guildId: 'g1', channelId: 'c1' }, { guildId: 'g2', channelId: 'c1' }), otherPlace);
    assert.throws(() => checkJobIsHere({ guildId: 'g1', channelId: 'c1' }, { guildId: null, channelId: 'dm' }), otherPlace);
    assert.throws(() => checkJobIsHere({ guildId: null, channelId: 'dm' }, { guildId: 'g1', channelId: 'dm' }), otherPlace);
  });

  it('in direct messages, only jobs of the same conversation (null === null is not enough)', () => {
    checkJobIsHere({ guildId: null, channelId: 'dm-alice' }, { guildId: null, channelId: 'dm-alice' });
    assert.throws(() => checkJobIsHere({ guildId: null, channelId: 'dm-bob' }, { guildId: null, channelId: 'dm-alice' }), otherPlace);
  });
});
