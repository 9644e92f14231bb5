import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';

/**
 * Reading a diffusers model folder's `tokenizer/` directory the way transformers' `CLIPTokenizer` does:
 * `vocab.json`, `merges.txt`, `tokenizer_config.json` and `special_tokens_map.json`.
 */

/** Everything a CLIP tokenizer needs from its folder. */
export interface TokenizerFiles {
  /** Token string → id, from vocab.json. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merge rules in rank order, from merges.txt. */
  readonly merges: ReadonlyArray<readonly [string, string]>;
  /** Content of the beginning-of-text token (`<|startoftext|>`). */
  readonly bosToken: string;
  /** Content of the end-of-text token (`<|endoftext|>`). */
  readonly eosToken: string;
  /** Content of the padding token (`<|endoftext|>` in SD 1.x, `!` in SD 2.x). */
  readonly padToken: string;
  /** Content of the token given to symbols missing from the vocabulary. */
  readonly unkToken: string;
  /** Tokens transformers splits the raw prompt on before BPE (the special tokens and `added_tokens_decoder`), with their ids. */
  readonly addedTokens: ReadonlyMap<string, number>;
  /** `model_max_length` of tokenizer_config.json. */
  readonly modelMaxLength: number;
}

/** transformers' `CLIPTokenizer` reads at most this many merges (`49152 - 256 - 2`), as openai does. */
export const maxMerges = 49152 - 256 - 2;

/** Largest `model_max_length` accepted; transformers writes 1e30 for "unlimited", which no CLIP text encoder has. */
const maxModelMaxLength = 1_000_000;

/** transformers' `CLIPTokenizer` defaults when neither file names a special token. */
const defaultSpecialTokens = {
  bos_token: '<|startoftext|>',
  eos_token: '<|endoftext|>',
  pad_token: '<|endoftext|>',
  unk_token: '<|endoftext|>',
} as const;

type SpecialTokenKey = keyof typeof defaultSpecialTokens;

function readText(path: string, expected: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/^\ufeff/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? String(error)})`;
    throw new UserError('tokenizer.fileMissing', `Tokenizer file ${path} ${reason}; expected ${expected}.`, { cause: error });
  }
}

function malformed(path: string, problem: string, expected: string): UserError {
  return new UserError('tokenizer.fileMalformed', `Tokenizer file ${path} is malformed (${problem}); expected ${expected}.`);
}

function readJsonObject(path: string, expected: string): Record<string, unknown> {
  const text = readText(path, expected);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw malformed(path, `not valid JSON: ${(error as Error).message}`, expected);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(path, 'not a JSON object', expected);
  return value as Record<string, unknown>;
}

function readVocab(path: string): Map<string, number> {
  const expected = 'a JSON object mapping each token string to its integer id';
  const object = readJsonObject(path, expected);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(object)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw malformed(path, `the id of ${JSON.stringify(token)} is ${JSON.stringify(id)}`, expected);
    }
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw malformed(path, 'no tokens', expected);
  return vocab;
}

// Python's str.split() with no argument: runs of whitespace separate fields.
const pythonWhitespaceRun = /[\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

function readMerges(path: string): Array<readonly [string, string]> {
  const expected = 'a "#version" header line, then one merge per line: two symbols separated by a space';
  const lines = readText(path, expected).trim().split('\n');
  // transformers drops the first line unconditionally; only a version header is dropped here
  const first = lines[0]?.startsWith('#version') === true ? 1 : 0;
  const merges: Array<readonly [string, string]> = [];
  const end = Math.min(lines.length, first + maxMerges);
  for (let i = first; i < end; i++) {
    const parts = lines[i]!.split(pythonWhitespaceRun).filter((part) => part !== '');
    // a blank line still takes up a rank (and a place under the cap) in transformers, but never matches
    if (parts.length === 0) continue;
    if (parts.length !== 2) throw malformed(path, `line ${i + 1} is ${JSON.stringify(lines[i])}`, expected);
    merges.push([parts[0]!, parts[1]!]);
  }
  if (merges.length === 0) throw malformed(path, 'no merges', expected);
  return merges;
}

/** A special-token entry: a plain string or an AddedToken object `{content: ...}`. */
function tokenContent(value: unknown, path: string, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value) && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw malformed(path, `"${key}" is ${JSON.stringify(value)}`, `"${key}" to be a string or an object with a string "content"`);
}

function readAddedTokensDecoder(config: Record<string, unknown>, path: string): Map<string, number> {
  const added = new Map<string, number>();
  const decoder = config['added_tokens_decoder'];
  if (decoder === undefined) return added;
  const expected = '"added_tokens_decoder" to map integer ids to tokens';
  if (typeof decoder !== 'object' || decoder === null || Array.isArray(decoder))
    throw malformed(path, '"added_tokens_decoder" is not an object', expected);
  for (const [idText, token] of Object.entries(decoder)) {
    const id = Number(idText);
    const content = tokenContent(token, path, `added_tokens_decoder.${idText}`);
    if (!Number.isSafeInteger(id) || id < 0 || content === undefined) throw malformed(path, `entry ${JSON.stringify(idText)}`, expected);
    added.set(content, id);
  }
  return added;
}

/**
 * The BPE tables of a `tokenizer.json` (the "fast" tokenizer file transformers writes, which some exports ship instead
 * of vocab.json and merges.txt): `model.vocab` and `model.merges` (`"a b"` strings, or `["a", "b"]` pairs in newer
 * files), the same tables as the slow tokenizer's two files.
 */
function readFastTokenizer(path: string): { vocab: Map<string, number>; merges: Array<readonly [string, string]> } {
  const expected = 'a tokenizers JSON file with a BPE "model" holding "vocab" and "merges"';
  const model = readJsonObject(path, expected)['model'] as Record<string, unknown> | undefined;
  if (!model || typeof model !== 'object' || model['type'] !== 'BPE') throw malformed(path, 'no BPE "model"', expected);
  const rawVocab = model['vocab'];
  const rawMerges = model['merges'];
  if (!rawVocab || typeof rawVocab !== 'object' || Array.isArray(rawVocab) || !Array.isArray(rawMerges)) {
    throw malformed(path, 'no "vocab" object or "merges" list', expected);
  }
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(rawVocab as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
      throw malformed(path, `the id of ${JSON.stringify(token)} is ${JSON.stringify(id)}`, expected);
    vocab.set(token, id);
  }
  const merges = rawMerges.slice(0, maxMerges).map((merge, i): readonly [string, string] => {
    const parts = Array.isArray(merge) ? merge : typeof merge === 'string' ? merge.split(' ') : [];
    if (parts.length !== 2 || parts.some((part) => typeof part !== 'string' || part === '')) {
      throw malformed(path, `merge ${i} is ${JSON.stringify(merge)}`, expected);
    }
    return [parts[0] as string, parts[1] as string];
  });
  if (vocab.size === 0 || merges.length === 0) throw malformed(path, 'an empty vocabulary or no merges', expected);
  return { vocab, merges };
}

/**
 * Reads and validates a tokenizer folder. Special tokens come from special_tokens_map.json over
 * tokenizer_config.json (transformers' legacy rule), or from tokenizer_config.json alone when it has an
 * `added_tokens_decoder` (what transformers ≥ 4.34 does); a token neither file names gets CLIPTokenizer's
 * default. A folder with only a `tokenizer.json` (no vocab.json and merges.txt) is read from that file. Throws a
 * {@link UserError} naming the file for a missing or malformed file.
 */
export function readTokenizerFiles(tokenizerDir: string): TokenizerFiles {
  const vocabPath = join(tokenizerDir, 'vocab.json');
  const mergesPath = join(tokenizerDir, 'merges.txt');
  const configPath = join(tokenizerDir, 'tokenizer_config.json');
  const specialPath = join(tokenizerDir, 'special_tokens_map.json');

  const fastPath = join(tokenizerDir, 'tokenizer.json');
  const { vocab, merges } =
    !existsSync(vocabPath) && !existsSync(mergesPath) && existsSync(fastPath)
      ? readFastTokenizer(fastPath)
      : { vocab: readVocab(vocabPath), merges: readMerges(mergesPath) };
  const config = readJsonObject(configPath, 'a JSON object with the tokenizer settings (model_max_length, special tokens)');
  const specialMap = readJsonObject(specialPath, 'a JSON object naming bos_token, eos_token, pad_token and unk_token');

  const modelMaxLength = config['model_max_length'];
  if (typeof modelMaxLength !== 'number' || !Number.isInteger(modelMaxLength) || modelMaxLength < 2 || modelMaxLength > maxModelMaxLength) {
    throw malformed(
      configPath,
      `"model_max_length" is ${JSON.stringify(modelMaxLength)}`,
      `"model_max_length" to be the text encoder's sequence length, an integer from 2 to ${maxModelMaxLength} (77 for Stable Diffusion)`,
    );
  }

  const addedTokensDecoder = readAddedTokensDecoder(config, configPath);
  const specialFromMapFirst = !('added_tokens_decoder' in config);
  const special = (key: SpecialTokenKey): string => {
    const fromConfig = tokenContent(config[key], configPath, key);
    const fromMap = specialFromMapFirst ? tokenContent(specialMap[key], specialPath, key) : undefined;
    return fromMap ?? fromConfig ?? defaultSpecialTokens[key];
  };
  const bosToken = special('bos_token');
  const eosToken = special('eos_token');
  const padToken = special('pad_token');
  const unkToken = special('unk_token');

  const addedTokens = new Map(addedTokensDecoder);
  for (const [key, token] of [
    ['bos_token', bosToken],
    ['eos_token', eosToken],
    ['pad_token', padToken],
    ['unk_token', unkToken],
  ] as const) {
    if (addedTokens.has(token)) continue;
    const id = vocab.get(token);
    if (id === undefined) {
      throw malformed(
        specialFromMapFirst ? specialPath : configPath,
        `${key} ${JSON.stringify(token)} is not in ${vocabPath}`,
        'every special token to be a vocabulary entry',
      );
    }
    addedTokens.set(token, id);
  }

  return { vocab, merges, bosToken, eosToken, padToken, unkToken, addedTokens, modelMaxLength };
}
