/**
 * The SQL stores' (SQLite, PostgreSQL) column of each run field `setRunStatus` may set (see
 * `settableRunFieldsOf`): both keep a run in one row with the same column names.
 */
export const SETTABLE_RUN_COLUMNS: Readonly<Record<string, string>> = {
  pipeline: 'pipeline',
  fingerprint: 'fingerprint',
  input: 'input',
  costMicrocents: 'cost_microcents',
  owner: 'owner',
  leaseUntil: 'lease_until',
  error: 'error',
  conversationState: 'conversation_state',
};

/** A run field's value as its column keeps it: `error` as JSON text, an absent or cleared field as NULL. */
export function runColumnValue(field: string, value: unknown): unknown {
  if (value === undefined) return null;
  return field === 'error' ? JSON.stringify(value) : value;
}
