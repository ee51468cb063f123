import { FastroAIError } from '../errors/fastroai-error';
import { describeValue } from '../config/step-config';
import { RUN_STATUSES, type RunListQuery } from './run-store';

/** Where a page of `listRuns` ended: the last run's `createdAt` and `runId`. */
export interface RunListPosition {
  createdAt: number;
  runId: string;
}

/** The default page size of `listRuns`. */
export const DEFAULT_RUN_LIST_LIMIT = 50;

/** The opaque cursor of a {@link RunListPosition} (base64url JSON), shared by every store. */
export function encodeRunListCursor(position: RunListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.runId])).toString('base64url');
}

/**
 * Reads a cursor written by {@link encodeRunListCursor}.
 * @throws FastroAIError when the cursor was not written by a store
 */
export function decodeRunListCursor(cursor: string): RunListPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'number' || typeof parsed[1] !== 'string') {
    throw new FastroAIError(`Invalid listRuns cursor '${cursor}': pass the cursor of the previous page`);
  }
  return { createdAt: parsed[0], runId: parsed[1] };
}

/** Orders runs newest first: `createdAt` descending, then `runId` descending by code point (as SQLite, Redis and PostgreSQL order it: bytewise in UTF-8). */
export function compareRunsNewestFirst(a: RunListPosition, b: RunListPosition): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return compareCodePoints(b.runId, a.runId);
}

/**
 * Compares two strings by code point, the order of their UTF-8 bytes. JavaScript's `<` compares
 * UTF-16 code units, which puts a character above U+FFFF (a surrogate pair, 0xD800–0xDFFF)
 * before one in U+E000–U+FFFF; moving the surrogates above that range fixes it.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

/** A checked page size: a positive integer, {@link DEFAULT_RUN_LIST_LIMIT} when absent. */
/**
 * Checks a `listRuns` query (a misspelt status would silently match nothing) and returns its page size.
 * @throws FastroAIError naming the bad field
 */
export function checkRunListQuery(query: RunListQuery): number {
  if (query.status !== undefined && !RUN_STATUSES.includes(query.status)) {
    throw new FastroAIError(`Expected listRuns status to be one of ${RUN_STATUSES.join(', ')}, got ${describeValue(query.status)}`);
  }
  if (query.pipeline !== undefined && typeof query.pipeline !== 'string') {
    throw new FastroAIError(`Expected listRuns pipeline to be a pipeline name, got ${describeValue(query.pipeline)}`);
  }
  return runListLimitOf(query.limit);
}

export function runListLimitOf(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_RUN_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new FastroAIError(`Expected listRuns limit to be a positive integer, got ${String(limit)}`);
  }
  return limit;
}
