/** How many ids a message names at most; the rest are counted (a 1,000-wide fan-out must not make a 10 KB message). */
export const MAX_LISTED_IDS = 50;

/** Formats ids as the Python original does in its messages: `['a', 'b']`; past {@link MAX_LISTED_IDS}: `[...50 ids, … 950 more]`. */
export function formatIdList(ids: Iterable<string>): string {
  const all = Array.from(ids);
  const listed = all.slice(0, MAX_LISTED_IDS).map((id) => `'${id}'`);
  if (all.length > MAX_LISTED_IDS) listed.push(`… ${all.length - MAX_LISTED_IDS} more`);
  return `[${listed.join(', ')}]`;
}
