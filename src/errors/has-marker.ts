/** True when `value` carries the `Symbol.for` marker an error class sets: `isInstance` across package copies. */
export function hasMarker(value: unknown, marker: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
}
