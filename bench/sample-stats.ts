/** The q-quantile (0 ≤ q ≤ 1) of `samples`, linearly interpolated. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** The median of `samples`. */
export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}
