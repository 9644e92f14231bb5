/**
 * Edit distance between two strings (optimal string alignment: insertions, deletions, substitutions and
 * swaps of two neighbouring characters each cost 1), compared by code point.
 */
export function editDistance(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  // Three rolling rows are enough for the transposition rule.
  let previous2: number[] = [];
  let previous: number[] = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current: number[] = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        best = Math.min(best, previous2[j - 2]! + 1);
      }
      current.push(best);
    }
    previous2 = previous;
    previous = current;
  }
  return previous[t.length]!;
}

/**
 * The candidate closest to `input`, if it is close enough to be a plausible typo: a case-insensitive
 * match wins outright, otherwise the smallest {@link editDistance} (ignoring case) of at most a third of
 * the input's length (minimum 1, maximum 3). Ties go to the earlier candidate.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  const allowed = Math.min(3, Math.max(1, Math.floor(Array.from(input).length / 3)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}
