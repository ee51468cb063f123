import type { RunStore, StepRecord } from '../store/run-store';
import { findStepRecords, recordKeyOf, type StepRecordKey } from './find-step-records';

/** Who waits for one record. */
interface PendingRead {
  readonly key: StepRecordKey;
  readonly resolve: (record: StepRecord | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** The reads of one run: those waiting for the next call, and whether a call is in flight or scheduled. */
interface RunReads {
  pending: PendingRead[];
  inFlight: boolean;
  scheduled: boolean;
}

/**
 * Reads step records in batches, one {@link findStepRecords} call per run at a time: the records
 * asked for in the same tick (the steps a burst of completion events woke up) go in one call, and
 * those asked for while a call of their run is in flight go together in the next one, sent when
 * it answers. A chain (one read at a time) waits for nothing more than a tick; a wide fan-out's
 * reads group themselves by the store's round trip (one query for many completions).
 */
export class StepRecordReader {
  /** The reads by store, then by run. */
  private readonly runs = new Map<RunStore, Map<string, RunReads>>();

  /** The step's record, read with the others of its run asked for meanwhile; undefined when the store has none. */
  read(store: RunStore, runId: string, key: StepRecordKey): Promise<StepRecord | undefined> {
    return new Promise<StepRecord | undefined>((resolve, reject) => {
      let ofStore = this.runs.get(store);
      if (ofStore === undefined) this.runs.set(store, (ofStore = new Map()));
      let reads = ofStore.get(runId);
      if (reads === undefined) ofStore.set(runId, (reads = { pending: [], inFlight: false, scheduled: false }));
      reads.pending.push({ key, resolve, reject });
      if (reads.inFlight || reads.scheduled) return;
      reads.scheduled = true;
      const scheduled = reads;
      setImmediate(() => this.send(store, runId, scheduled));
    });
  }

  /** Sends the run's pending reads in one call; when it answers, the reads asked for meanwhile go. */
  private send(store: RunStore, runId: string, reads: RunReads): void {
    reads.scheduled = false;
    const batch = reads.pending;
    reads.pending = [];
    reads.inFlight = true;
    const done = () => {
      reads.inFlight = false;
      if (reads.pending.length > 0) this.send(store, runId, reads);
      else this.forget(store, runId, reads);
    };
    findStepRecords(
      store,
      runId,
      batch.map((read) => read.key),
    ).then(
      (found) => {
        for (const read of batch) read.resolve(found.get(recordKeyOf(read.key.stepId, read.key.generation)));
        done();
      },
      (error: unknown) => {
        for (const read of batch) read.reject(error);
        done();
      },
    );
  }

  /** A run with nothing to read goes (a caller serves many runs over its life). */
  private forget(store: RunStore, runId: string, reads: RunReads): void {
    const ofStore = this.runs.get(store);
    if (ofStore?.get(runId) !== reads) return;
    ofStore.delete(runId);
    if (ofStore.size === 0) this.runs.delete(store);
  }
}
