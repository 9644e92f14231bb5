import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeUserText, fitLines, fitMessage, maxMessageLength, quote } from '../../src/bot/discord-text.js';
import { codePointLength } from '../../src/text.js';

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('escapeUserText', () => {
  it('shows markdown, masked links, headings and lists as typed', () => {
    assert.equal(escapeUserText('a *bold* _fox_'), 'a \\*bold\\* \\_fox\\_');
    assert.equal(escapeUserText('[Free Nitro](https://discord.gift.example/x)'), '\\[Free Nitro](https://discord.gift.example/x)');
    assert.equal(escapeUserText('# big'), '\\# big');
    assert.equal(escapeUserText('- item'), '\\- item');
  });

  it('puts the text on one line without bidirectional controls', () => {
    assert.equal(escapeUserText('line one\nline two \u202Eexe.png'), 'line one line two exe.png');
  });
});

describe('fitMessage', () => {
  it('joins the bot’s text and escaped quotes', () => {
    assert.equal(fitMessage(['🎨 **', quote('a *bold* fox'), '** done']), '🎨 **a \\*bold\\* fox** done');
  });

  it('cuts a quote to its own maximum measured after escaping, never inside an escape', () => {
    assert.equal(fitMessage(['> ', quote('****', 4)]), '> \\*…');
    assert.equal(fitMessage(['> ', quote('abcdef', 4)]), '> abc…');
  });

  it('shrinks the longest quotes first until the message fits, keeping the bot’s own text whole', () => {
    const text = fitMessage(['A: ', quote('x'.repeat(3000)), '\nB: ', quote('y'.repeat(100)), '\nend'], 1000);
    assert.equal(codePointLength(text), 1000);
    assert.match(text, /^A: x+…\nB: y{100}\nend$/);
  });

  it('shares the room between long quotes', () => {
    const text = fitMessage([quote('x'.repeat(3000)), '|', quote('y'.repeat(3000))], 101);
    assert.equal(text, `${'x'.repeat(49)}…|${'y'.repeat(49)}…`);
  });

  it('keeps any content within Discord’s limit, counted in code points, without lone surrogates', () => {
    const parts = Array.from({ length: 30 }, (_, i) => [`${i}. <@${'1'.repeat(18)}> — `, quote('🎉*'.repeat(500)), '\n']).flat();
    const text = fitMessage(parts);
    assert.ok(codePointLength(text) <= maxMessageLength, `${codePointLength(text)}`);
    assert.doesNotMatch(text, loneSurrogate);
    assert.match(text, /^0\. /u);
    assert.match(text, /\n29\. /u, 'every line is there');
  });

  it('cuts the bot’s own text only when it alone is too long', () => {
    assert.equal(codePointLength(fitMessage(['z'.repeat(2500)])), maxMessageLength);
  });
});

describe('fitLines', () => {
  it('joins lines of parts with line breaks', () => {
    assert.equal(fitLines(['**Prompt:** ', ['a ', quote('_b_')], 'c']), '**Prompt:** \na \\_b\\_\nc');
  });
});
