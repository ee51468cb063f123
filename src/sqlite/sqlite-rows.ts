import type { RunRecord, StepRecord, StoredError } from '../store/run-store';
import type { StepUsageFields } from '../usage/step-usage';

/** A row of `fastroai_runs`. */
export interface RunRow {
  run_id: string;
  pipeline: string;
  fingerprint: string;
  input: string;
  status: string;
  created_at: number;
  updated_at: number;
  cost_microcents: number;
  owner: string;
  epoch: number;
  lease_until: number;
  error: string | null;
  conversation_state: string | null;
}

/** A row of `fastroai_steps` (without `seq`). */
export interface StepRow {
  run_id: string;
  step_id: string;
  generation: number;
  status: string;
  output: string | null;
  usage: string;
  error: string | null;
  attempts: number;
  started_at: number;
  ended_at: number;
  worker_id: string | null;
}

/** The row of a run record. */
export function rowOfRun(run: RunRecord): RunRow {
  return {
    run_id: run.runId,
    pipeline: run.pipeline,
    fingerprint: run.fingerprint,
    input: run.input,
    status: run.status,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    cost_microcents: run.costMicrocents,
    owner: run.owner,
    epoch: run.epoch,
    lease_until: run.leaseUntil,
    error: run.error === undefined ? null : JSON.stringify(run.error),
    conversation_state: run.conversationState ?? null,
  };
}

/** The run record of a row: absent optional fields stay absent. */
export function runOfRow(row: RunRow): RunRecord {
  const run: RunRecord = {
    runId: row.run_id,
    pipeline: row.pipeline,
    fingerprint: row.fingerprint,
    input: row.input,
    status: row.status as RunRecord['status'],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    costMicrocents: row.cost_microcents,
    owner: row.owner,
    epoch: row.epoch,
    leaseUntil: row.lease_until,
  };
  if (row.error !== null) run.error = JSON.parse(row.error) as StoredError;
  if (row.conversation_state !== null) run.conversationState = row.conversation_state;
  return run;
}

/** The row of a step record of run `runId`. */
export function rowOfStep(runId: string, record: StepRecord): StepRow {
  return {
    run_id: runId,
    step_id: record.stepId,
    generation: record.generation,
    status: record.status,
    output: record.output ?? null,
    usage: JSON.stringify(record.usage),
    error: record.error === undefined ? null : JSON.stringify(record.error),
    attempts: record.attempts,
    started_at: record.startedAt,
    ended_at: record.endedAt,
    worker_id: record.workerId ?? null,
  };
}

/** The step record of a row: absent optional fields stay absent. */
export function stepOfRow(row: StepRow): StepRecord {
  const usage = JSON.parse(row.usage) as StepUsageFields;
  // JSON drops an unknown model; the record's usage always has the key.
  if (!Object.hasOwn(usage, 'model')) usage.model = undefined;
  const record: StepRecord = {
    stepId: row.step_id,
    generation: row.generation,
    status: row.status as StepRecord['status'],
    usage,
    attempts: row.attempts,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
  if (row.output !== null) record.output = row.output;
  if (row.error !== null) record.error = JSON.parse(row.error) as StoredError;
  if (row.worker_id !== null) record.workerId = row.worker_id;
  return record;
}
