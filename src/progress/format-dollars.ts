/**
 * Integer microcents as dollars, to the microcent.
 *
 * @example formatDollars(1_100) // '$0.001100'
 */
export function formatDollars(microcents: number): string {
  return `$${(microcents / 1_000_000).toFixed(6)}`;
}
