/**
 * CLIP BPE tokenizer (openai/CLIP `SimpleTokenizer` / transformers `CLIPTokenizer` ids), with the text
 * cleaning it depends on: a port of ftfy 6.3.1's `fix_text` and Python's `html.unescape`.
 */
export { ClipTokenizer, type ClipTokenizerOptions, type TokenizedPrompt } from './clip-tokenizer.js';
export { readTokenizerFiles, type TokenizerFiles } from './tokenizer-files.js';
export { cleanPromptText } from './text-cleaning.js';
export { fixText } from './ftfy/fix-text.js';
export { fixEncoding } from './ftfy/fix-encoding.js';
export { pythonHtmlUnescape } from './html-unescape.js';
