import type { RunRecord, RunStatus, StepRecord, StepRecordStatus, StoredError } from '../store/run-store';

/** A row of the `runs` table as pg returns it (BIGINT as strings). */
export interface RunRow {
  run_id: string;
  pipeline: string;
  fingerprint: string;
  input: string;
  status: string;
  created_at: string;
  updated_at: string;
  cost_microcents: string;
  owner: string;
  epoch: string;
  lease_until: string;
  error: string | null;
  conversation_state: string | null;
}

/** A row of the `steps` table as pg returns it. */
export interface StepRow {
  step_id: string;
  generation: number;
  status: string;
  output: string | null;
  usage: string;
  error: string | null;
  attempts: number;
  started_at: string;
  ended_at: string;
  worker_id: string | null;
}

/** The run of a `runs` row; absent optional fields stay absent. */
export function runOfRow(row: RunRow): RunRecord {
  const run: RunRecord = {
    runId: row.run_id,
    pipeline: row.pipeline,
    fingerprint: row.fingerprint,
    input: row.input,
    status: row.status as RunStatus,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    costMicrocents: Number(row.cost_microcents),
    owner: row.owner,
    epoch: Number(row.epoch),
    leaseUntil: Number(row.lease_until),
  };
  if (row.error !== null) run.error = JSON.parse(row.error) as StoredError;
  if (row.conversation_state !== null) run.conversationState = row.conversation_state;
  return run;
}

/** The step record of a `steps` row; absent optional fields stay absent. */
export function stepOfRow(row: StepRow): StepRecord {
  const record: StepRecord = {
    stepId: row.step_id,
    generation: row.generation,
    status: row.status as StepRecordStatus,
    usage: JSON.parse(row.usage) as StepRecord['usage'],
    attempts: row.attempts,
    startedAt: Number(row.started_at),
    endedAt: Number(row.ended_at),
  };
  if (row.output !== null) record.output = row.output;
  if (row.error !== null) record.error = JSON.parse(row.error) as StoredError;
  if (row.worker_id !== null) record.workerId = row.worker_id;
  return record;
}
