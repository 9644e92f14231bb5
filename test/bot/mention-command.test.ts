import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMentionCommand } from '../../src/bot/mentions.js';

describe('mention commands with weighted prompts', () => {
  it('options stand anywhere; weights inside brackets stay prompt text', () => {
    assert.deepEqual(parseMentionCommand('remix a (snowy street:1.3) steps:6 negative:"(worst quality:1.4), [blurry]" seed:5'), {
      kind: 'remix',
      options: { prompt: 'a (snowy street:1.3)', steps: 6, negativePrompt: '(worst quality:1.4), [blurry]', seed: '5' },
    });
    assert.deepEqual(parseMentionCommand('imagine (sharp steps:1.3), ((detailed cfg:2)) cat count:2'), {
      kind: 'imagine',
      options: { prompt: '(sharp steps:1.3), ((detailed cfg:2)) cat', count: 2 },
    });
    // An escaped bracket opens nothing: the option after it is an option.
    assert.deepEqual(parseMentionCommand('imagine a sign \\(hello steps:3'), {
      kind: 'imagine',
      options: { prompt: 'a sign \\(hello', steps: 3 },
    });
  });
});
