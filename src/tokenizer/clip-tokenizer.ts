import { BytePairEncoder, defaultBpeCacheSize, endOfWord } from './bpe.js';
import { bytesToSymbols, symbolsToText } from './byte-encoder.js';
import { splitWords } from './pre-tokenizer.js';
import { cleanPromptText } from './text-cleaning.js';
import { readTokenizerFiles, type TokenizerFiles } from './tokenizer-files.js';

/** A prompt turned into the fixed-length id sequence the text encoder takes. */
export interface TokenizedPrompt {
  /** Exactly `modelMaxLength` ids: bos + the first `modelMaxLength - 2` ids + eos, padded with the pad id. */
  inputIds: Int32Array;
  /** Number of BPE tokens of the prompt itself (without bos/eos), including any that were dropped. */
  tokenCount: number;
  /** True when tokens were dropped to fit `modelMaxLength`. */
  truncated: boolean;
  /** The dropped tokens decoded back to text (`''` when nothing was dropped), to tell the user what was ignored. */
  droppedText: string;
}

/** Options of {@link ClipTokenizer}. */
export interface ClipTokenizerOptions {
  /** How many distinct words the BPE cache remembers (least recently used ones are forgotten). */
  bpeCacheSize?: number;
}

/** The two special tokens openai's pattern matches itself (after cleaning) and its BPE cache maps to themselves. */
const openaiSpecialTokens = ['<|startoftext|>', '<|endoftext|>'] as const;

/** A part of a prompt: text to clean and BPE-encode, or an added token transformers splits off first. */
type PromptPiece = { text: string } | { token: string; id: number };

function escapeRegExp(text: string): string {
  return text.replace(/[|\\{}()[\]^$+*?.-]/g, '\\$&');
}

/**
 * CLIP's BPE tokenizer: the ids of openai/CLIP's `SimpleTokenizer` and of transformers' `CLIPTokenizer` as
 * diffusers calls it (`padding="max_length", max_length=model_max_length, truncation=True`).
 *
 * Prompt text is cleaned like openai (ftfy 6.3.1, `html.unescape` twice, whitespace collapsed, lower-cased),
 * split with CLIP's pattern and BPE-encoded. Tokenizers whose added tokens include more than
 * `<|startoftext|>`/`<|endoftext|>` (SD 2.x and SD-Turbo list `"!"` as their pad token) are handled like
 * transformers: the raw prompt is first split on those tokens, which become their own ids (`"wow!!"` gives
 * `wow</w>`, 0, 0 there), and the text between them is tokenized piece by piece.
 */
export class ClipTokenizer {
  /** Length of every {@link TokenizedPrompt.inputIds}, bos and eos included (77 for Stable Diffusion). */
  readonly modelMaxLength: number;
  /** Id of the beginning-of-text token. */
  readonly bosTokenId: number;
  /** Id of the end-of-text token, appended after the prompt's tokens. */
  readonly eosTokenId: number;
  /** Id used to pad to `modelMaxLength` (49407 `<|endoftext|>` for SD 1.x, 0 `!` for SD 2.x). */
  readonly padTokenId: number;
  /** Id given to a BPE symbol missing from the vocabulary. */
  readonly unkTokenId: number;
  /** Id of the `,</w>` token (AUTOMATIC1111 moves text after a comma into the next chunk), if the vocabulary has one. */
  readonly commaTokenId: number | undefined;

  private readonly vocab: ReadonlyMap<string, number>;
  private readonly decoder: ReadonlyMap<number, string>;
  private readonly bpe: BytePairEncoder;
  private readonly splitTokens: ReadonlyMap<string, number>;
  private readonly splitPattern: RegExp | undefined;

  /** Builds a tokenizer from already-read files; see {@link ClipTokenizer.fromFolder}. */
  constructor(files: TokenizerFiles, options: ClipTokenizerOptions = {}) {
    const idOf = (token: string): number => {
      const id = files.addedTokens.get(token) ?? files.vocab.get(token);
      if (id === undefined) throw new RangeError(`special token ${JSON.stringify(token)} has no id`);
      return id;
    };
    this.modelMaxLength = files.modelMaxLength;
    this.bosTokenId = idOf(files.bosToken);
    this.eosTokenId = idOf(files.eosToken);
    this.padTokenId = idOf(files.padToken);
    this.unkTokenId = idOf(files.unkToken);
    this.vocab = files.vocab;
    this.commaTokenId = files.vocab.get(`,${endOfWord}`);

    const decoder = new Map<number, string>();
    for (const [token, id] of files.vocab) decoder.set(id, token);
    for (const [token, id] of files.addedTokens) decoder.set(id, token);
    this.decoder = decoder;

    this.bpe = new BytePairEncoder(files.merges, openaiSpecialTokens, options.bpeCacheSize ?? defaultBpeCacheSize);

    const splitTokens = new Map<string, number>();
    for (const [token, id] of files.addedTokens) {
      if (token !== '' && !(openaiSpecialTokens as readonly string[]).includes(token)) splitTokens.set(token, id);
    }
    this.splitTokens = splitTokens;
    this.splitPattern =
      splitTokens.size === 0
        ? undefined
        : new RegExp(
            [...splitTokens.keys()]
              .sort((a, b) => b.length - a.length)
              .map(escapeRegExp)
              .join('|'),
            'g',
          );
  }

  /** Loads `vocab.json`, `merges.txt`, `tokenizer_config.json` and `special_tokens_map.json` from a tokenizer folder. */
  static fromFolder(tokenizerDir: string, options: ClipTokenizerOptions = {}): ClipTokenizer {
    return new ClipTokenizer(readTokenizerFiles(tokenizerDir), options);
  }

  /** The cleaned prompt that CLIP's pattern splits into words (openai's `whitespace_clean(basic_clean(p)).lower()`). */
  cleanText(prompt: string): string {
    return cleanPromptText(prompt);
  }

  /** The BPE tokens of the prompt, as vocabulary strings (byte symbols, `</w>` at word ends). */
  bpeTokens(prompt: string): string[] {
    const tokens: string[] = [];
    for (const piece of this.pieces(prompt)) {
      if ('token' in piece) tokens.push(piece.token);
      else for (const word of splitWords(cleanPromptText(piece.text))) tokens.push(...this.bpe.encodeWord(bytesToSymbols(word)));
    }
    return tokens;
  }

  /** bos + the ids of every token of the prompt + eos, without truncation or padding. */
  rawIds(prompt: string): number[] {
    return [this.bosTokenId, ...this.promptIds(prompt), this.eosTokenId];
  }

  /**
   * The ids of the text's tokens alone: no bos/eos, no truncation, no padding (transformers'
   * `tokenizer(text, truncation=False, add_special_tokens=False)`, how AUTOMATIC1111 tokenizes each prompt fragment).
   */
  tokenIds(text: string): number[] {
    return this.promptIds(text);
  }

  /** The prompt as the text encoder's input: bos + ids (truncated to fit) + eos, padded to `modelMaxLength`. */
  encode(prompt: string): TokenizedPrompt {
    const ids = this.promptIds(prompt);
    const room = this.modelMaxLength - 2;
    const kept = ids.length > room ? ids.slice(0, room) : ids;
    const dropped = ids.length > room ? ids.slice(room) : [];
    const inputIds = new Int32Array(this.modelMaxLength).fill(this.padTokenId);
    inputIds[0] = this.bosTokenId;
    inputIds.set(kept, 1);
    inputIds[1 + kept.length] = this.eosTokenId;
    return {
      inputIds,
      tokenCount: ids.length,
      truncated: dropped.length > 0,
      droppedText: dropped.length > 0 ? this.decode(dropped).trim() : '',
    };
  }

  /**
   * Whether `other` maps every token to the same id (SDXL's two tokenizers share CLIP's vocabulary and differ only
   * in padding, so one reading of a prompt serves both text encoders).
   */
  hasSameVocabulary(other: ClipTokenizer): boolean {
    if (other.vocab.size !== this.vocab.size) return false;
    for (const [token, id] of this.vocab) if (other.vocab.get(token) !== id) return false;
    return true;
  }

  /**
   * Ids back to text as openai's `decode` does: the tokens' bytes decoded as UTF-8 (broken sequences become
   * U+FFFD) and every `</w>` replaced by a space. Special tokens are kept as their text.
   */
  decode(ids: readonly number[]): string {
    let symbols = '';
    for (const id of ids) {
      const token = this.decoder.get(id);
      if (token === undefined) throw new RangeError(`token id ${id} is not in the vocabulary`);
      symbols += token;
    }
    return symbolsToText(symbols).replaceAll(endOfWord, ' ');
  }

  private promptIds(prompt: string): number[] {
    const ids: number[] = [];
    for (const piece of this.pieces(prompt)) {
      if ('token' in piece) {
        ids.push(piece.id);
        continue;
      }
      for (const word of splitWords(cleanPromptText(piece.text))) {
        for (const symbol of this.bpe.encodeWord(bytesToSymbols(word))) ids.push(this.vocab.get(symbol) ?? this.unkTokenId);
      }
    }
    return ids;
  }

  /** transformers' added-token split of the raw prompt (leftmost, longest token first); one text piece when there is nothing to split on. */
  private pieces(prompt: string): PromptPiece[] {
    if (this.splitPattern === undefined) return [{ text: prompt }];
    const pieces: PromptPiece[] = [];
    let last = 0;
    for (const match of prompt.matchAll(this.splitPattern)) {
      if (match.index > last) pieces.push({ text: prompt.slice(last, match.index) });
      pieces.push({ token: match[0], id: this.splitTokens.get(match[0])! });
      last = match.index + match[0].length;
    }
    if (last < prompt.length) pieces.push({ text: prompt.slice(last) });
    return pieces;
  }
}
