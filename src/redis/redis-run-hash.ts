import type { RunRecord, RunStatus, StoredError } from '../store/run-store';

const STRING_FIELDS: ReadonlySet<string> = new Set(['runId', 'pipeline', 'fingerprint', 'input', 'status', 'owner', 'conversationState']);
const NUMBER_FIELDS: ReadonlySet<string> = new Set(['createdAt', 'updatedAt', 'costMicrocents', 'epoch', 'leaseUntil']);

/**
 * The hash fields of a run's given fields, as a flat `[field, value, …]` list: strings as they
 * are, numbers in decimal, `error` as JSON. Fields that are `undefined` or not part of a
 * {@link RunRecord} are left out.
 */
export function runHashFieldsOf(fields: Partial<RunRecord>): string[] {
  const flat: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (STRING_FIELDS.has(key) || NUMBER_FIELDS.has(key)) flat.push(key, String(value));
    else if (key === 'error') flat.push(key, JSON.stringify(value));
  }
  return flat;
}

/** The run stored as the flat `[field, value, …]` list of HGETALL; `undefined` for an empty hash. */
export function runOfHash(flat: string[]): RunRecord | undefined {
  if (flat.length === 0) return undefined;
  const run: Record<string, unknown> = {};
  for (let index = 0; index < flat.length; index += 2) {
    const key = flat[index];
    const value = flat[index + 1];
    if (STRING_FIELDS.has(key)) run[key] = value;
    else if (NUMBER_FIELDS.has(key)) run[key] = Number(value);
    else if (key === 'error') run[key] = JSON.parse(value) as StoredError;
  }
  return run as unknown as RunRecord;
}

/**
 * A run's member in the listing indexes: `createdAt` on 16 digits, `:`, `runId`; lexicographic
 * order on members is `createdAt`, then `runId` (bytewise), which `listRuns` reads backwards.
 */
export function runIndexMemberOf(createdAt: number, runId: string): string {
  return `${String(createdAt).padStart(16, '0')}:${runId}`;
}

/** The listing index of runs of `pipeline` and/or `status` (every run when both are absent). */
export function runIndexKeyOf(prefix: string, pipeline: string | undefined, status: RunStatus | undefined): string {
  if (pipeline !== undefined && status !== undefined) return `${prefix}runs:ps:${status}:${pipeline}`;
  if (pipeline !== undefined) return `${prefix}runs:pipeline:${pipeline}`;
  if (status !== undefined) return `${prefix}runs:status:${status}`;
  return `${prefix}runs`;
}
