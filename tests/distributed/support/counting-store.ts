/**
 * A MemoryRunStore that counts the calls of its reads (getRun, getStepRecord, getStepRecords)
 * and the keys asked for, for tests that check how the caller batches its reads.
 */
import { MemoryRunStore } from 'fastroai';
import type { StepRecord } from 'fastroai';
import type { StepRecordKey } from '../../../src/store/step-records-reader';

export class CountingStore extends MemoryRunStore {
  /** The number of keys of each `getStepRecords` call, in order. */
  readonly batches: number[] = [];
  getRunCalls = 0;
  getStepRecordCalls = 0;

  override async getRun(runId: string): ReturnType<MemoryRunStore['getRun']> {
    this.getRunCalls++;
    return super.getRun(runId);
  }

  override async getStepRecord(runId: string, stepId: string, generation: number): Promise<StepRecord | undefined> {
    this.getStepRecordCalls++;
    return super.getStepRecord(runId, stepId, generation);
  }

  override async getStepRecords(runId: string, keys: readonly StepRecordKey[]): Promise<Array<StepRecord | undefined>> {
    this.batches.push(keys.length);
    return super.getStepRecords(runId, keys);
  }
}
