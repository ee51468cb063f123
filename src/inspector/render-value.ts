import { escapeHtml } from './escape-html';

/** Entries shown per object, array, map or set before "… n more". */
const MAX_ENTRIES = 200;
/** Nodes rendered per value in all, so one huge output cannot make the page slow. */
const MAX_NODES = 2_000;
/** Characters of a string shown before it is cut. */
const MAX_STRING = 10_000;
/**
 * Characters of strings (and keys) rendered per value in all: without it, a value of
 * {@link MAX_NODES} long strings would make a page of 20 MB. What is over is cut with a note.
 */
export const MAX_VALUE_CHARACTERS = 100_000;

/**
 * A decoded run value (`decodeValue`) as collapsible JSON: objects, arrays, maps and sets are
 * `<details>` elements (open at the top level), leaves are text. Everything is rendered as
 * TEXT: each key and value is escaped, so an output like `<img src=x onerror=…>` shows as
 * those characters. Types the codec restores are named (`Map(2)`, `Date`, `123n`,
 * `ConversationState`), and big values are cut with a note saying so.
 */
export function renderValue(value: unknown): string {
  const budget: Budget = { nodes: MAX_NODES, characters: MAX_VALUE_CHARACTERS };
  return `<div class="json">${renderNode(value, 0, budget, new Set())}</div>`;
}

/** What is left to render of one value. */
interface Budget {
  nodes: number;
  characters: number;
}

function renderNode(value: unknown, depth: number, budget: Budget, seen: Set<object>): string {
  budget.nodes -= 1;
  if (budget.nodes < 0) return '<span class="json-more">…</span>';
  if (value === null) return '<span class="json-null">null</span>';
  switch (typeof value) {
    case 'undefined':
      return '<span class="json-null">undefined</span>';
    case 'string': {
      const room = Math.max(0, Math.min(MAX_STRING, budget.characters));
      budget.characters -= Math.min(value.length, room);
      const cut = value.length > room ? `${value.slice(0, room)}… (${value.length} characters)` : value;
      return `<span class="json-string">${escapeHtml(JSON.stringify(cut))}</span>`;
    }
    case 'number':
    case 'boolean':
      return `<span class="json-${typeof value}">${String(value)}</span>`;
    case 'bigint':
      return `<span class="json-number">${value}n</span>`;
    case 'object':
      break;
    default:
      return `<span class="json-other">${escapeHtml(String(value))}</span>`;
  }
  const object = value as object;
  if (object instanceof Date) return `<span class="json-date">${escapeHtml(Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString())}</span>`;
  if (seen.has(object)) return '<span class="json-other">[cycle]</span>';
  if (object instanceof Uint8Array) {
    const hex = Buffer.from(object.subarray(0, 64)).toString('hex');
    return `<span class="json-other">${escapeHtml(object.constructor.name)}(${object.length}) ${hex}${object.length > 64 ? '…' : ''}</span>`;
  }
  seen.add(object);
  const { label, entries } = describeObject(object);
  const shown = entries.slice(0, MAX_ENTRIES);
  const rows = shown.map(([key, child]) => `<li>${key === undefined ? '' : `<span class="json-key">${escapeHtml(keyWithin(key, budget))}</span>: `}${renderNode(child, depth + 1, budget, seen)}</li>`);
  if (entries.length > shown.length) rows.push(`<li class="json-more">… ${entries.length - shown.length} more</li>`);
  seen.delete(object);
  if (entries.length === 0) return `<span class="json-other">${escapeHtml(label)}</span>`;
  return `<details${depth === 0 ? ' open' : ''}><summary>${escapeHtml(label)}</summary><ul>${rows.join('')}</ul></details>`;
}

/** A key, cut like a string when it is long (a key can be as big as a value). */
function keyWithin(key: string, budget: Budget): string {
  const room = Math.max(0, Math.min(MAX_STRING, budget.characters));
  budget.characters -= Math.min(key.length, room);
  return key.length > room ? `${key.slice(0, room)}… (${key.length} characters)` : key;
}

/** How an object is labelled and which (key, value) entries it shows; keys undefined for list items. */
function describeObject(object: object): { label: string; entries: Array<[string | undefined, unknown]> } {
  if (Array.isArray(object)) return { label: `Array(${object.length})`, entries: object.map((item) => [undefined, item]) };
  if (object instanceof Map) {
    return { label: `Map(${object.size})`, entries: [...object.entries()].map(([key, item]) => [typeof key === 'string' ? key : String(key), item]) };
  }
  if (object instanceof Set) return { label: `Set(${object.size})`, entries: [...object].map((item) => [undefined, item]) };
  if (object instanceof Error) {
    const fields = Object.entries(object).filter(([key]) => key !== 'stack');
    return { label: object.name, entries: [['message', object.message], ...fields] };
  }
  const entries = Object.entries(object);
  const name = Object.getPrototypeOf(object)?.constructor?.name as string | undefined;
  const prefix = name === undefined || name === 'Object' ? '' : `${name} `;
  return { label: `${prefix}{${entries.length} ${entries.length === 1 ? 'key' : 'keys'}}`, entries };
}
