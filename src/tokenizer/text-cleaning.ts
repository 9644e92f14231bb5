import { fixText } from './ftfy/fix-text.js';
import { pythonHtmlUnescape } from './html-unescape.js';
import { pythonStrip, regexModuleSpaceClass } from './python-text.js';

/**
 * openai/CLIP's prompt cleaning (`clip/simple_tokenizer.py`):
 * `whitespace_clean(basic_clean(text)).lower()` with
 * `basic_clean = html.unescape(html.unescape(ftfy.fix_text(text))).strip()` and
 * `whitespace_clean = regex.sub(r'\s+', ' ', text).strip()`.
 *
 * Hugging Face's slow `CLIPTokenizer` cleans with `whitespace_clean(ftfy.fix_text(text)).lower()`, without
 * the two `html.unescape` calls. The two differ only for text that still holds an HTML reference after ftfy,
 * which happens when the line contains `<` (ftfy then leaves entities alone): openai turns
 * `"a &lt;b&gt; c <3"` into `"a <b> c <3"`, transformers keeps `"a &lt;b&gt; c <3"`. The reference goldens
 * are openai's, so this follows openai.
 */

const whitespaceRun = new RegExp(`[${regexModuleSpaceClass}]+`, 'g');

/** openai's `basic_clean`: ftfy, HTML-unescaped twice, stripped. */
export function basicClean(text: string): string {
  return pythonStrip(pythonHtmlUnescape(pythonHtmlUnescape(fixText(text))));
}

/** openai's `whitespace_clean`: every whitespace run becomes one space, then stripped. */
export function whitespaceClean(text: string): string {
  return pythonStrip(text.replace(whitespaceRun, ' '));
}

/** The exact string openai's CLIP tokenizer splits into words: cleaned, whitespace-collapsed, lower-cased. */
export function cleanPromptText(prompt: string): string {
  return whitespaceClean(basicClean(prompt)).toLowerCase();
}
