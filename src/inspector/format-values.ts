/** Integer microcents as dollars, to the microcent (`$0.001100`). */
export function formatDollars(microcents: number): string {
  return `$${(microcents / 1_000_000).toFixed(6)}`;
}

/** A duration for people: whole ms under a second, seconds with two decimals above. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** An epoch-ms time as `2026-11-27 09:12:33` (UTC). */
export function formatTime(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return '–';
  return new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

/** A whole number with thousands separators (`12,345`). */
export function formatCount(count: number): string {
  return Number.isFinite(count) ? Math.round(count).toLocaleString('en-US') : '–';
}
