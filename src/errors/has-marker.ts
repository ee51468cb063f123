/**
 * True when `value` carries the `Symbol.for` marker an error class sets: `isInstance` across
 * package copies. Total: a revoked Proxy or a throwing getter answers false, never throws.
 */
export function hasMarker(value: unknown, marker: symbol): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as Record<symbol, unknown>)[marker] === true;
  } catch {
    return false;
  }
}
