/** Formats ids as the Python original does in its messages: `['a', 'b']`. */
export function formatIdList(ids: Iterable<string>): string {
  return `[${Array.from(ids, (id) => `'${id}'`).join(', ')}]`;
}
