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
  private readonly pairs: ReadonlyArray<readonly [string, string]>;
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
    this.pairs = merges;
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

  /**
   * openai's loop, run with a heap so that a very long word costs O(n log n) instead of O(n²): take the
   * lowest rank among the current adjacent pairs, merge every occurrence of that pair left to right
   * (`"a a a"` → `"aa a"`), and only then consider the pairs those merges created.
   */
  private merge(word: string): readonly string[] {
    const symbols = Array.from(word);
    const n = symbols.length;
    if (n === 0) return [];
    symbols[n - 1] += endOfWord;
    if (n === 1) return symbols;

    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const alive = new Uint8Array(n).fill(1);
    const heap = new PairHeap();
    const pushPair = (left: number): void => {
      const right = next[left]!;
      if (right < 0) return;
      const rank = this.ranks.get(pairKey(symbols[left]!, symbols[right]!));
      if (rank !== undefined) heap.push(rank, left);
    };
    for (let i = 0; i + 1 < n; i++) pushPair(i);

    const batch: number[] = [];
    while (heap.size > 0) {
      const rank = heap.topRank();
      batch.length = 0;
      while (heap.size > 0 && heap.topRank() === rank) batch.push(heap.pop());
      batch.sort((a, b) => a - b);
      const [first, second] = this.pairs[rank]!;
      const merged = first + second;
      for (const left of batch) {
        const right = next[left]!;
        // stale entries (a neighbour merged since they were pushed) no longer show the pair
        if (alive[left] === 0 || right < 0 || symbols[left] !== first || symbols[right] !== second) continue;
        symbols[left] = merged;
        alive[right] = 0;
        const after = next[right]!;
        next[left] = after;
        if (after >= 0) prev[after] = left;
        if (prev[left]! >= 0) pushPair(prev[left]!);
        pushPair(left);
      }
    }
    const out: string[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(symbols[i]!);
    return out;
  }
}

/** A binary min-heap of (rank, position) entries, ordered by rank then position. */
class PairHeap {
  private ranks: number[] = [];
  private positions: number[] = [];

  get size(): number {
    return this.ranks.length;
  }

  topRank(): number {
    return this.ranks[0]!;
  }

  push(rank: number, position: number): void {
    const ranks = this.ranks;
    const positions = this.positions;
    let i = ranks.length;
    ranks.push(rank);
    positions.push(position);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(rank, position, ranks[parent]!, positions[parent]!)) break;
      ranks[i] = ranks[parent]!;
      positions[i] = positions[parent]!;
      i = parent;
    }
    ranks[i] = rank;
    positions[i] = position;
  }

  /** Removes the smallest entry and returns its position. */
  pop(): number {
    const ranks = this.ranks;
    const positions = this.positions;
    const top = positions[0]!;
    const lastRank = ranks.pop()!;
    const lastPosition = positions.pop()!;
    const size = ranks.length;
    if (size > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= size) break;
        const right = left + 1;
        const child = right < size && this.less(ranks[right]!, positions[right]!, ranks[left]!, positions[left]!) ? right : left;
        if (!this.less(ranks[child]!, positions[child]!, lastRank, lastPosition)) break;
        ranks[i] = ranks[child]!;
        positions[i] = positions[child]!;
        i = child;
      }
      ranks[i] = lastRank;
      positions[i] = lastPosition;
    }
    return top;
  }

  private less(rankA: number, positionA: number, rankB: number, positionB: number): boolean {
    return rankA < rankB || (rankA === rankB && positionA < positionB);
  }
}

// Symbols never contain a space (the space byte is the symbol "Ġ"), so a space separates the pair unambiguously.
function pairKey(first: string, second: string): string {
  return first + ' ' + second;
}
