/**
 * CLIP's byte-pair encoding of one word (`SimpleTokenizer.bpe` in openai/CLIP, identical in transformers'
 * `CLIPTokenizer.bpe`): the word's byte symbols, the last one marked with `</w>`, are merged pair by pair,
 * always the adjacent pair with the lowest merge rank first, until no ranked pair is left.
 */

/** Marks the last symbol of a word. */
export const endOfWord = '</w>';

/** The default number of words whose BPE result is remembered. */
export const defaultBpeCacheSize = 20_000;

/**
 * A BPE merger with a bounded least-recently-used cache: a stream of distinct words (a hostile user) cannot
 * make it grow past `cacheSize` entries. Words that must never be split (the special tokens) are pinned.
 */
export class BytePairEncoder {
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly cache = new Map<string, readonly string[]>();
  private readonly pinned = new Map<string, readonly string[]>();
  private readonly cacheSize: number;

  /**
   * @param merges merge rules in rank order (`[first, second]` symbol pairs, rank = index)
   * @param unsplittable words that map to themselves (openai pins `<|startoftext|>` and `<|endoftext|>`)
   * @param cacheSize maximum number of cached words
   */
  constructor(merges: ReadonlyArray<readonly [string, string]>, unsplittable: readonly string[], cacheSize = defaultBpeCacheSize) {
    const ranks = new Map<string, number>();
    merges.forEach(([first, second], rank) => {
      const key = pairKey(first, second);
      // dict(zip(merges, range(...))) keeps the last rank of a duplicated merge
      ranks.set(key, rank);
    });
    this.ranks = ranks;
    for (const word of unsplittable) this.pinned.set(word, [word]);
    this.cacheSize = Math.max(0, Math.floor(cacheSize));
  }

  /** Number of words currently cached (excluding the pinned ones). */
  get cachedWords(): number {
    return this.cache.size;
  }

  /** The BPE symbols of a word given as byte symbols, e.g. `"hello"` → `["hello</w>"]`. */
  encodeWord(word: string): readonly string[] {
    const pinned = this.pinned.get(word);
    if (pinned !== undefined) return pinned;
    const cached = this.cache.get(word);
    if (cached !== undefined) {
      // refresh its position in the LRU order
      this.cache.delete(word);
      this.cache.set(word, cached);
      return cached;
    }
    const symbols = this.merge(word);
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) {
        const oldest = this.cache.keys().next();
        if (oldest.done !== true) this.cache.delete(oldest.value);
      }
      this.cache.set(word, symbols);
    }
    return symbols;
  }

  private merge(word: string): readonly string[] {
    let symbols = Array.from(word);
    if (symbols.length === 0) return [];
    symbols[symbols.length - 1] += endOfWord;
    while (symbols.length > 1) {
      let bestRank = Number.POSITIVE_INFINITY;
      let first = '';
      let second = '';
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(pairKey(symbols[i]!, symbols[i + 1]!));
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          first = symbols[i]!;
          second = symbols[i + 1]!;
        }
      }
      if (bestRank === Number.POSITIVE_INFINITY) break;
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; ) {
        if (symbols[i] === first && i + 1 < symbols.length && symbols[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(symbols[i]!);
          i += 1;
        }
      }
      symbols = merged;
    }
    return symbols;
  }
}

// Symbols never contain a space (the space byte is the symbol "Ġ"), so a space separates the pair unambiguously.
function pairKey(first: string, second: string): string {
  return first + ' ' + second;
}
