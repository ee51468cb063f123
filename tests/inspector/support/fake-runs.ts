import type { RunRecord, RunStore } from 'fastroai';

/** A run record as a store holds it, for runs the tests write directly. */
export function fakeRun(fields: Partial<RunRecord> & { runId: string }): RunRecord {
  const now = Date.now();
  return {
    pipeline: 'bulk',
    fingerprint: JSON.stringify({ steps: { only: [] }, output: 'only' }),
    input: '{}',
    status: 'completed',
    createdAt: now,
    updatedAt: now + 1_500,
    costMicrocents: 0,
    owner: 'elsewhere:1:abc',
    epoch: 1,
    leaseUntil: 0,
    ...fields,
  };
}

/** Writes `count` completed runs of `pipeline`, one ms apart (newest last). */
export async function writeRuns(store: RunStore, count: number, pipeline = 'bulk', startMs = Date.UTC(2026, 0, 1)): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.createRun(fakeRun({ runId: `${pipeline}-${String(index).padStart(5, '0')}`, pipeline, createdAt: startMs + index, updatedAt: startMs + index + 1000 }));
  }
}
