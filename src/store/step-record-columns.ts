import type { StepUsageFields } from '../usage/step-usage';
import { copyError, copyUsage } from './copy-record';
import { HandedOverStepRecord } from './handed-over-step-record';
import type { EncodedValue, StepRecord, StepRecordStatus, StoredError } from './run-store';

/**
 * The step records of one run in a store that keeps them in memory, in the order they were
 * written, one array per field: a kept record costs its encoded output and a slot in each
 * array, not an object of its own with two boxed times (a record object kept per step made a
 * recorded chain with MemoryRunStore about 2.5 times slower than keeping its output alone: the
 * young-generation GC copies every kept object, and the times as `number[]` are unboxed).
 * First writer wins per (stepId, generation). Readers get records of their own
 * ({@link recordAt}), which they may change.
 */
export class StepRecordColumns {
  private readonly stepIds: string[] = [];
  private readonly generations: number[] = [];
  private readonly statuses: StepRecordStatus[] = [];
  private readonly outputs: Array<EncodedValue | undefined> = [];
  private readonly usages: StepUsageFields[] = [];
  private readonly attempts: number[] = [];
  private readonly startedAts: number[] = [];
  private readonly endedAts: number[] = [];
  /** Errors and worker ids by row, for the rows that have one (most have neither). */
  private errors: Map<number, StoredError> | undefined;
  private workerIds: Map<number, string> | undefined;
  /** The row of each generation-1 record by step id (nearly every record). */
  private readonly firstGeneration = new Map<string, number>();
  /** The row of each later record by `generation:stepId`. */
  private laterGenerations: Map<string, number> | undefined;

  /** How many records are kept. */
  get size(): number {
    return this.stepIds.length;
  }

  /**
   * Keeps `record` (a copy of its parts: a caller that changes it afterwards changes nothing
   * kept), unless one with its step id and generation is kept already.
   * @returns false for such a duplicate (nothing kept)
   */
  add(record: StepRecord): boolean {
    const { stepId, generation } = record;
    if (this.rowOf(stepId, generation) !== -1) return false;
    const row = this.stepIds.length;
    if (generation === 1) this.firstGeneration.set(stepId, row);
    else (this.laterGenerations ??= new Map()).set(laterKeyOf(stepId, generation), row);
    this.stepIds.push(stepId);
    this.generations.push(generation);
    this.statuses.push(record.status);
    this.outputs.push(record.output);
    // The engine's records share no usage with anything that changes it (see HandedOverStepRecord); a frozen one cannot change.
    this.usages.push(record instanceof HandedOverStepRecord || Object.isFrozen(record.usage) ? record.usage : copyUsage(record.usage));
    this.attempts.push(record.attempts);
    this.startedAts.push(record.startedAt);
    this.endedAts.push(record.endedAt);
    if (record.error !== undefined) (this.errors ??= new Map()).set(row, copyError(record.error));
    if (record.workerId !== undefined) (this.workerIds ??= new Map()).set(row, record.workerId);
    return true;
  }

  /** The row of the record of `stepId` at `generation`, or -1. */
  rowOf(stepId: string, generation: number): number {
    const row = generation === 1 ? this.firstGeneration.get(stepId) : this.laterGenerations?.get(laterKeyOf(stepId, generation));
    return row ?? -1;
  }

  /** The record of `stepId` at `generation`, as a record of its own; undefined when none is kept. */
  get(stepId: string, generation: number): StepRecord | undefined {
    const row = this.rowOf(stepId, generation);
    return row === -1 ? undefined : this.recordAt(row);
  }

  /** The record in `row`, as a record of its own. */
  recordAt(row: number): StepRecord {
    const record: StepRecord = {
      stepId: this.stepIds[row],
      generation: this.generations[row],
      status: this.statuses[row],
      usage: copyUsage(this.usages[row]),
      attempts: this.attempts[row],
      startedAt: this.startedAts[row],
      endedAt: this.endedAts[row],
    };
    const output = this.outputs[row];
    if (output !== undefined) record.output = output;
    const error = this.errors?.get(row);
    if (error !== undefined) record.error = copyError(error);
    const workerId = this.workerIds?.get(row);
    if (workerId !== undefined) record.workerId = workerId;
    return record;
  }

  /** Every record, in the order they were written, each of its own. */
  records(): StepRecord[] {
    const records = new Array<StepRecord>(this.size);
    for (let row = 0; row < records.length; row++) records[row] = this.recordAt(row);
    return records;
  }
}

/** A later generation's key: `generation:stepId` (the generation has no colon: unambiguous). */
function laterKeyOf(stepId: string, generation: number): string {
  return `${generation}:${stepId}`;
}
