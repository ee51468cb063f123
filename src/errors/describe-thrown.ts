/** A readable description of a thrown value that is not an `Error` (`throw 'x'`, `throw undefined`). */
export function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'threw an empty string' : value;
  if (value === undefined) return 'threw undefined (not an Error)';
  if (value === null) return 'threw null (not an Error)';
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
}
