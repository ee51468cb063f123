/** Input that is not a plain object is wrapped as `{ data: input }`. */
export function toInputRecord(input: unknown): Record<string, unknown> {
  if (typeof input === 'object' && input !== null) {
    const prototype = Object.getPrototypeOf(input);
    if (prototype === Object.prototype || prototype === null) return input as Record<string, unknown>;
  }
  return { data: input };
}
