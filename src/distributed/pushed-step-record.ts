import type { StepRecord } from '../store/run-store';

/** The step id and generation a pushed record names, or undefined when it names none (the push is anyone's JSON). */
export function pushedKeyOf(value: unknown): { stepId: string; generation: number } | undefined {
  const { stepId, generation } = (value ?? {}) as { stepId?: unknown; generation?: unknown };
  return typeof stepId === 'string' && typeof generation === 'number' ? { stepId, generation } : undefined;
}

const RECORD_STATUSES: ReadonlySet<unknown> = new Set(['completed', 'failed', 'incomplete']);

/**
 * The record of step `stepId` at `generation` that a store pushed (see RecordPusher), or
 * undefined when what came is not that: the record is then read from the store. The shape is
 * checked as a store's own JSON is (the Redis store keeps records as this same JSON); an output
 * that does not decode is caught where it is decoded.
 */
export function pushedRecordOf(value: unknown, stepId: string, generation: number): StepRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<Record<keyof StepRecord, unknown>>;
  if (record.stepId !== stepId || record.generation !== generation || !RECORD_STATUSES.has(record.status)) return undefined;
  if (typeof record.attempts !== 'number' || typeof record.startedAt !== 'number' || typeof record.endedAt !== 'number') return undefined;
  const usage = record.usage as Record<string, unknown> | null | undefined;
  if (typeof usage !== 'object' || usage === null || typeof usage.requestCount !== 'number' || typeof usage.costMicrocents !== 'number') return undefined;
  if (record.output !== undefined && typeof record.output !== 'string') return undefined;
  if (record.workerId !== undefined && typeof record.workerId !== 'string') return undefined;
  const error = record.error as Record<string, unknown> | null | undefined;
  if (error !== undefined && (typeof error !== 'object' || error === null || typeof error.name !== 'string' || typeof error.message !== 'string')) return undefined;
  return value as StepRecord;
}
