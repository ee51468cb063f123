/**
 * A duration for people: whole milliseconds under a second, seconds with two decimals above.
 *
 * @example formatDuration(119.4) // '119 ms'
 * @example formatDuration(1234) // '1.23 s'
 */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
