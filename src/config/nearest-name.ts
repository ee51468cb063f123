/**
 * The candidate a misspelt name most likely meant, or `undefined` when none is close.
 *
 * Closeness is the optimal-string-alignment distance (insertions, deletions, substitutions and
 * swaps of two neighbours each count 1: `retires` → `retries` is 1), compared case-insensitively.
 * A candidate counts when its distance is at most 40% of the given name's length, as
 * TypeScript's own "Did you mean" suggestions do, so a one-letter name only matches itself in
 * another case. On a tie the first candidate wins.
 *
 * @param given the unknown name (`'timout'`)
 * @param candidates the valid names, in the order to prefer on a tie
 * @example
 * nearestName('timout', ['timeout', 'retries']); // 'timeout'
 * nearestName('colour', ['timeout', 'retries']); // undefined
 */
export function nearestName(given: string, candidates: Iterable<string>): string | undefined {
  const wanted = given.toLowerCase();
  const limit = Math.floor(given.length * 0.4);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - given.length) >= bestDistance) continue;
    const distance = alignmentDistance(wanted, candidate.toLowerCase(), bestDistance);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Optimal-string-alignment distance between `a` and `b`, or any value `>= cap` once it is
 * known to reach `cap` (a row's minimum never decreases), so a scan over 10,000 step ids stays cheap.
 */
function alignmentDistance(a: string, b: string, cap: number): number {
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, previous2[j - 2] + 1);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin >= cap) return cap;
    previous2 = previous;
    previous = current;
  }
  return previous[b.length];
}
