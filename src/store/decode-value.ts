import { ConversationState, ConversationStatus } from '../conversation/conversation-state';
import { FastroAIError } from '../errors/fastroai-error';
import { STEP_USAGE_COUNTERS, StepUsage, type StepUsageFields } from '../usage/step-usage';
import type { EncodedValue } from './run-store';
import { PAYLOAD_KEY, TAG_KEY } from './value-tag';

/** Text that holds no tag decodes with `JSON.parse` alone. */
const TAG_MARK = `"${TAG_KEY}"`;

/**
 * Decodes what {@link encodeValue} wrote, giving back the same types (`Date`, `Map`, `Set`,
 * `BigInt`, `Error`, `undefined`, `Uint8Array`, `Buffer`, `ConversationState`, `StepUsage`).
 *
 * Stored JSON never sets a prototype: a `"__proto__"` key becomes an own property (as
 * `JSON.parse` makes it), and tags rebuild their values from named fields only.
 *
 * @param text the encoded value
 * @throws FastroAIError when the text is not JSON or holds a tag this version does not know
 */
export function decodeValue(text: EncodedValue): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FastroAIError(`A stored value is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return text.includes(TAG_MARK) ? revive(parsed) : parsed;
}

/** Replaces tags by the values they stand for, in place (the input is fresh from JSON.parse). */
function revive(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = revive(value[index]);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, TAG_KEY)) return reviveTagged(record[TAG_KEY], record[PAYLOAD_KEY]);
  for (const key of Object.keys(record)) setOwn(record, key, revive(record[key]));
  return record;
}

function reviveTagged(tag: unknown, payload: unknown): unknown {
  switch (tag) {
    case 'undefined':
      return undefined;
    case 'Number':
      return reviveNumber(payload);
    case 'BigInt':
      return BigInt(asString(payload, tag));
    case 'Date':
      return new Date(payload === null ? Number.NaN : asNumber(payload, tag));
    case 'Map':
      return new Map(asArray(payload, tag).map((entry) => {
        const [key, entryValue] = asArray(entry, tag);
        return [revive(key), revive(entryValue)] as const;
      }));
    case 'Set':
      return new Set(asArray(payload, tag).map(revive));
    case 'Buffer':
      return Buffer.from(asString(payload, tag), 'base64');
    case 'Uint8Array': {
      const bytes = Buffer.from(asString(payload, tag), 'base64');
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
    }
    case 'Error':
      return reviveError(asRecord(payload, tag));
    case 'StepUsage':
      return reviveUsage(asRecord(payload, tag));
    case 'ConversationState': {
      const fields = asRecord(payload, tag);
      const status = fields.status === ConversationStatus.INCOMPLETE ? ConversationStatus.INCOMPLETE : ConversationStatus.COMPLETE;
      const state = new ConversationState({ status });
      state.data = revive(fields.data);
      const context = revive(fields.context);
      state.context = isRecord(context) ? context : {};
      return state;
    }
    case 'Object': {
      const object: Record<string, unknown> = {};
      for (const entry of asArray(payload, tag)) {
        const [key, entryValue] = asArray(entry, tag);
        setOwn(object, asString(key, tag), revive(entryValue));
      }
      return object;
    }
  }
  throw new FastroAIError(`A stored value has an unknown tag ${JSON.stringify(tag)}: was it written by a newer fastroai?`);
}

function reviveNumber(payload: unknown): number {
  if (payload === '-0') return -0;
  if (payload === 'NaN') return Number.NaN;
  if (payload === 'Infinity') return Number.POSITIVE_INFINITY;
  if (payload === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw malformed('Number');
}

/** The built-in error classes, by name: an error of one of them comes back as one. */
const BUILT_IN_ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
};

function reviveError(fields: Record<string, unknown>): Error {
  const options = Object.hasOwn(fields, 'cause') ? { cause: revive(fields.cause) } : undefined;
  const builtIn = typeof fields.name === 'string' && Object.hasOwn(BUILT_IN_ERRORS, fields.name) ? BUILT_IN_ERRORS[fields.name] : Error;
  const error = new builtIn(typeof fields.message === 'string' ? fields.message : '', options);
  if (typeof fields.props === 'object' && fields.props !== null) {
    for (const [key, value] of Object.entries(revive(fields.props) as Record<string, unknown>)) {
      if (key !== '__proto__') (error as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (typeof fields.name === 'string' && fields.name !== builtIn.prototype.name) {
    Object.defineProperty(error, 'name', { value: fields.name, writable: true, configurable: true, enumerable: false });
  }
  if (typeof fields.code === 'string' || typeof fields.code === 'number') {
    Object.defineProperty(error, 'code', { value: fields.code, writable: true, configurable: true, enumerable: true });
  }
  if (typeof fields.stack === 'string') {
    Object.defineProperty(error, 'stack', { value: fields.stack, writable: true, configurable: true, enumerable: false });
  }
  return error;
}

function reviveUsage(fields: Record<string, unknown>): StepUsage {
  const usage: Partial<StepUsageFields> = {};
  for (const counter of STEP_USAGE_COUNTERS) {
    if (typeof fields[counter] === 'number') usage[counter] = fields[counter];
  }
  if (typeof fields.model === 'string') usage.model = fields.model;
  return new StepUsage(usage);
}

/** Sets an own data property, even for `"__proto__"` (where `=` would set the prototype). */
function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(payload: unknown, tag: string): Record<string, unknown> {
  if (!isRecord(payload)) throw malformed(tag);
  return payload;
}

function asArray(payload: unknown, tag: string): unknown[] {
  if (!Array.isArray(payload)) throw malformed(tag);
  return payload;
}

function asString(payload: unknown, tag: string): string {
  if (typeof payload !== 'string') throw malformed(tag);
  return payload;
}

function asNumber(payload: unknown, tag: string): number {
  if (typeof payload !== 'number') throw malformed(tag);
  return payload;
}

function malformed(tag: string): FastroAIError {
  return new FastroAIError(`A stored value has a malformed ${tag} tag`);
}
