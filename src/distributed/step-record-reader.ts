import type { RunStore, StepRecord } from '../store/run-store';
import { findStepRecords, recordKeyOf, type StepRecordKey } from './find-step-records';

/** Who waits for one record. */
interface PendingRead {
  readonly key: StepRecordKey;
  readonly resolve: (record: StepRecord | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Reads step records in batches: the records asked for in the same tick (the steps a burst of
 * completion events woke up) are read with one {@link findStepRecords} per run, instead of one
 * store call each.
 */
export class StepRecordReader {
  /** Pending reads by store, then by run. */
  private pending = new Map<RunStore, Map<string, PendingRead[]>>();
  private scheduled = false;

  /** The step's record, read with the others asked for in this tick; undefined when the store has none. */
  read(store: RunStore, runId: string, key: StepRecordKey): Promise<StepRecord | undefined> {
    return new Promise<StepRecord | undefined>((resolve, reject) => {
      let runs = this.pending.get(store);
      if (runs === undefined) this.pending.set(store, (runs = new Map()));
      let reads = runs.get(runId);
      if (reads === undefined) runs.set(runId, (reads = []));
      reads.push({ key, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [store, runs] of pending) {
      for (const [runId, reads] of runs) {
        findStepRecords(
          store,
          runId,
          reads.map((read) => read.key),
        ).then(
          (found) => {
            for (const read of reads) read.resolve(found.get(recordKeyOf(read.key.stepId, read.key.generation)));
          },
          (error: unknown) => {
            for (const read of reads) read.reject(error);
          },
        );
      }
    }
  }
}
