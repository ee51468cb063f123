import { ConversationState } from '../conversation/conversation-state';
import { OutputNotStorableError } from '../errors/output-not-storable-error';
import { STEP_USAGE_COUNTERS, StepUsage } from '../usage/step-usage';
import type { EncodedValue } from './run-store';
import { PAYLOAD_KEY, TAG_KEY, type ValueTag } from './value-tag';

/** An own key that JSON must never carry (a naive reader's merge would set a prototype). */
const PROTO_KEY = '__proto__';

/** Deeper than this, the fast check gives up and the full encoder (which detects cycles) runs. */
const FAST_CHECK_MAX_DEPTH = 256;

/**
 * Encodes a value for a run store: JSON, with tags for `Date`, `Map`, `Set`, `BigInt`, `Error`,
 * `undefined`, `Uint8Array`/`Buffer`, `ConversationState`, `StepUsage`, `NaN`, `±Infinity` and
 * `-0` (API.md §12). {@link decodeValue} gives back the same types.
 *
 * A value that is already plain JSON (plain objects, arrays, strings, finite numbers, booleans,
 * null) costs one walk to check it plus one `JSON.stringify`.
 *
 * The stored JSON never has a `"__proto__"` key: an own `__proto__` property (or a key that
 * looks like a tag) is stored as a `[key, value]` pair.
 *
 * Symbol-keyed and non-enumerable properties are left out, as `JSON.stringify` does; an object
 * with a null prototype comes back with `Object.prototype`. An `Error` keeps its `name`,
 * `message`, `code`, `stack`, `cause` and its other own enumerable fields; it comes back as the
 * built-in class its name names (`TypeError`…), else as an `Error` with that name. A value
 * reached twice (not a cycle) is stored twice.
 *
 * @param value what to encode
 * @param stepId the step whose output this is (absent for the run's input), for the error
 * @throws OutputNotStorableError for a class instance, a function, a symbol or a cycle, naming
 *   the JSON path (`$.entities[2] is an instance of Entity`)
 */
export function encodeValue(value: unknown, stepId?: string): EncodedValue {
  // The usual step output first: a string, a finite number or a boolean needs no walk. JSON
  // writes a finite number as `String` does (ECMA-262 SerializeJSONProperty), without the
  // serializer's setup.
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // A step that returns nothing: its tag, without a tagging encoder made for it.
  if (value === undefined) return ENCODED_UNDEFINED;
  if (isPlainJson(value, 0)) return JSON.stringify(value);
  const encoder = new TaggingEncoder(stepId);
  return JSON.stringify(encoder.encode(value));
}

/** True when `JSON.stringify` alone stores `value` exactly (no tag, no escape needed). */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth > FAST_CHECK_MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false;
        for (let index = 0; index < value.length; index++) {
          if (!isPlainJson(value[index], depth + 1)) return false;
        }
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (key === TAG_KEY || key === PROTO_KEY || !isPlainJson(record[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** A tagged value in its JSON-able form. */
type Tagged = { [TAG_KEY]: ValueTag; [PAYLOAD_KEY]?: unknown };

function tagged(tag: ValueTag, payload?: unknown): Tagged {
  return payload === undefined ? { [TAG_KEY]: tag } : { [TAG_KEY]: tag, [PAYLOAD_KEY]: payload };
}

/** `undefined`, encoded (what the tagging encoder writes for it). */
const ENCODED_UNDEFINED = JSON.stringify(tagged('undefined'));

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * How many objects deep a stored value may nest: encoding and decoding recurse, and a deeper
 * value would overflow the stack (a RangeError, somewhere between 3,000 and 5,000 levels here) instead of naming its path.
 */
const MAX_NESTING = 1_000;

/** The full encoder: builds a JSON-able copy with tags, tracking the path for errors. */
class TaggingEncoder {
  /** The path from the root to the value being encoded, as JSON-path segments. */
  private readonly path: string[] = [];
  /** The objects on the current path, to tell a cycle from a value reached twice. */
  private readonly ancestors = new Set<object>();

  constructor(private readonly stepId: string | undefined) {}

  encode(value: unknown): unknown {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (Number.isFinite(value) && !Object.is(value, -0)) return value;
        return tagged('Number', Object.is(value, -0) ? '-0' : String(value));
      case 'bigint':
        return tagged('BigInt', value.toString());
      case 'undefined':
        return tagged('undefined');
      case 'function':
        throw this.notStorable('is a function');
      case 'symbol':
        throw this.notStorable('is a symbol');
      case 'object':
        if (value === null) return null;
        return this.encodeObject(value);
    }
    throw this.notStorable(`is a ${typeof value}`);
  }

  private encodeObject(value: object): unknown {
    if (this.ancestors.has(value)) throw this.notStorable('is a cycle');
    if (this.ancestors.size >= MAX_NESTING) throw this.notStorable(`is nested more than ${MAX_NESTING} objects deep`);
    this.ancestors.add(value);
    try {
      return this.encodeKnownObject(value);
    } finally {
      this.ancestors.delete(value);
    }
  }

  private encodeKnownObject(value: object): unknown {
    const prototype = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) return this.encodePlainObject(value as Record<string, unknown>);
    if (prototype === Array.prototype) return this.encodeArray(value as unknown[]);
    // Any Date (test runners' fake timers make every Date a subclass's, `ClockDate`); a Map or a
    // Set exactly: a subclass (`class Money extends Map`) would come back as its base class after
    // a resume, and a dependent would see another type: it is refused as a class instance.
    if (value instanceof Date) return tagged('Date', Number.isNaN(value.getTime()) ? null : value.getTime());
    if (prototype === Map.prototype) return tagged('Map', this.encodeMapEntries(value as Map<unknown, unknown>));
    if (prototype === Set.prototype) return tagged('Set', this.encodeEach([...(value as Set<unknown>)], (index) => `.values[${index}]`));
    if (Buffer.isBuffer(value)) return tagged('Buffer', value.toString('base64'));
    if (prototype === Uint8Array.prototype) return tagged('Uint8Array', Buffer.from(value as Uint8Array).toString('base64'));
    if (value instanceof Error) return tagged('Error', this.encodeError(value));
    if (value instanceof StepUsage) return tagged('StepUsage', encodeUsage(value));
    if (value instanceof ConversationState) {
      return tagged('ConversationState', {
        status: value.status,
        data: this.at('.data', () => this.encode(value.data)),
        context: this.at('.context', () => this.encode(value.context)),
      });
    }
    const name = (prototype?.constructor as { name?: unknown } | undefined)?.name;
    throw this.notStorable(`is an instance of ${typeof name === 'string' && name !== '' ? name : 'an anonymous class'}`);
  }

  private encodePlainObject(value: Record<string, unknown>): unknown {
    const keys = Object.keys(value);
    // A key that looks like a tag, or "__proto__", is stored inside a list of pairs: never as a key.
    if (keys.includes(TAG_KEY) || keys.includes(PROTO_KEY)) {
      return tagged(
        'Object',
        keys.map((key) => [key, this.at(segmentOf(key), () => this.encode(value[key]))]),
      );
    }
    const copy: Record<string, unknown> = {};
    for (const key of keys) copy[key] = this.at(segmentOf(key), () => this.encode(value[key]));
    return copy;
  }

  private encodeArray(value: unknown[]): unknown[] {
    return this.encodeEach(value, (index) => `[${index}]`);
  }

  private encodeEach(values: unknown[], segment: (index: number) => string): unknown[] {
    const encoded = new Array<unknown>(values.length);
    for (let index = 0; index < values.length; index++) {
      encoded[index] = this.at(segment(index), () => this.encode(values[index]));
    }
    return encoded;
  }

  private encodeMapEntries(map: Map<unknown, unknown>): unknown[] {
    const entries: unknown[] = [];
    let index = 0;
    for (const [key, entryValue] of map) {
      const keyText = typeof key === 'string' || typeof key === 'number' ? JSON.stringify(key) : undefined;
      const encodedKey = this.at(`.keys[${index}]`, () => this.encode(key));
      const encodedValue = this.at(keyText === undefined ? `.values[${index}]` : `.get(${keyText})`, () => this.encode(entryValue));
      entries.push([encodedKey, encodedValue]);
      index++;
    }
    return entries;
  }

  private encodeError(error: Error): Record<string, unknown> {
    // (ERROR_OWN_FIELDS: what is stored on its own.)
    const fields: Record<string, unknown> = { name: String(error.name), message: String(error.message) };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') fields.code = code;
    if (typeof error.stack === 'string') fields.stack = error.stack;
    if (error.cause !== undefined) fields.cause = this.at('.cause', () => this.encode(error.cause));
    // Its other own enumerable fields (`status`, `details`…), encoded like any value.
    const props: Record<string, unknown> = {};
    let hasProps = false;
    for (const key of Object.keys(error)) {
      if (ERROR_OWN_FIELDS.has(key)) continue;
      props[key] = (error as unknown as Record<string, unknown>)[key];
      hasProps = true;
    }
    if (hasProps) fields.props = this.encode(props);
    return fields;
  }

  private at<T>(segment: string, encode: () => T): T {
    this.path.push(segment);
    try {
      return encode();
    } finally {
      this.path.pop();
    }
  }

  private notStorable(problem: string): OutputNotStorableError {
    return new OutputNotStorableError(this.stepId, `$${this.path.join('')}`, problem);
  }
}

function segmentOf(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function encodeUsage(usage: StepUsage): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const counter of STEP_USAGE_COUNTERS) fields[counter] = usage[counter];
  if (usage.model !== undefined) fields.model = usage.model;
  return fields;
}

/** The fields of an error stored on their own (the rest of its own enumerable fields go in `props`). */
const ERROR_OWN_FIELDS: ReadonlySet<string> = new Set(['name', 'message', 'code', 'stack', 'cause']);
