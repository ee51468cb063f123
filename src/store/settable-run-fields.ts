import type { RunRecord } from './run-store';

/** The fields of a run that `setRunStatus` never changes: its identity, fence and birth. */
const FIXED_RUN_FIELDS: ReadonlySet<string> = new Set(['runId', 'epoch', 'createdAt', 'updatedAt', 'status']);
/** The optional fields of a run: given as `undefined`, they are cleared. */
export const CLEARABLE_RUN_FIELDS: ReadonlySet<string> = new Set(['error', 'conversationState']);

/**
 * The fields `setRunStatus` may set, from what the caller gave: every own key except `runId`,
 * `epoch`, `createdAt`, `updatedAt` (the store sets it) and `status` (its own parameter). A key
 * given as `undefined` clears an optional field (`error`, `conversationState`) and is ignored
 * for the others.
 */
export function settableRunFieldsOf(fields: Partial<RunRecord>): Partial<RunRecord> {
  const settable: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const value = (fields as Record<string, unknown>)[key];
    if (FIXED_RUN_FIELDS.has(key) || (value === undefined && !CLEARABLE_RUN_FIELDS.has(key))) continue;
    settable[key] = value;
  }
  return settable as Partial<RunRecord>;
}
