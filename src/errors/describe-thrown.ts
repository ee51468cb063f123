/**
 * A readable description of a thrown value that is not an `Error` (`throw 'x'`, `throw undefined`).
 * Total: a value that cannot be inspected (a revoked Proxy, a throwing `message` getter) is
 * described as such, never rethrown.
 */
export function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'threw an empty string' : value;
  if (value === undefined) return 'threw undefined (not an Error)';
  if (value === null) return 'threw null (not an Error)';
  try {
    if (typeof value === 'object') {
      const message = (value as { message?: unknown }).message;
      if (typeof message === 'string') return message;
      try {
        return `threw a non-Error value: ${JSON.stringify(value)}`;
      } catch {
        return `threw a non-Error value: ${Object.prototype.toString.call(value)}`;
      }
    }
    return `threw a non-Error value: ${String(value)}`;
  } catch {
    return 'threw a value that cannot be inspected (a revoked Proxy, or a getter that throws)';
  }
}

/** True when `value` is an `Error` whose `message` can be read; false (never a throw) otherwise. */
export function isReadableError(value: unknown): value is Error {
  try {
    return value instanceof Error && typeof value.message === 'string';
  } catch {
    return false;
  }
}
