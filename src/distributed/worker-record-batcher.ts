import { callStoreThen } from '../durable/call-store';
import { recordOutcomesMismatch } from '../store/record-outcomes-mismatch';
import { pushesRecords, type PushedRecordOutcome } from '../store/record-pusher';
import type { RecordOutcome, RunStore, StepRecord } from '../store/run-store';

/** The lock a record is written under: checked (synchronously) right before its batch is sent. */
export interface RecordFence {
  check(): boolean;
  readonly error: Error | undefined;
}

/** A record waiting for its batch, and the job awaiting its answer. */
interface PendingRecord {
  readonly record: StepRecord;
  readonly fence: RecordFence;
  /** Its callers hear its store's pushes: no wake-up for it when the store pushed it. */
  readonly pushesHeard: boolean;
  readonly resolve: (outcome: RecordOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/** The records of one run at one epoch: those waiting, and whether a batch is in flight. */
interface RunQueue {
  readonly runId: string;
  readonly epoch: number;
  waiting: PendingRecord[];
  flushing: boolean;
}

/**
 * A worker's group commit of step records: the records of one run at one epoch that its jobs
 * hand in during the same turn of the event loop go to the store in ONE `recordSteps` call
 * (sent from `setImmediate`), and those handed in while that run's call is in flight go in the
 * next one (a worker runs `concurrency` jobs at once; the engine's RecordBatcher,
 * src/durable/record-batcher.ts, does the same for a run in one process). Each job gets its own
 * record's answer (`recorded`, `duplicate`, `stale-epoch`). Right before a batch is sent, each
 * record's job lock is checked: a record whose lock was lost is left out and its job gets the
 * lock's error. Once the store answered a batch, `written` is told its records that are in the
 * store now (`recorded` or `duplicate`), before their jobs get their answers: one wake-up
 * message per batch for the callers, sent before the jobs complete on the queue. A store that
 * tells the records it pushed as it wrote them (RecordPusher.recordStepsPushed) reached the
 * callers with those already: they are left out, for jobs whose caller hears its pushes.
 */
export class WorkerRecordBatcher {
  private readonly queues = new Map<string, RunQueue>();

  constructor(
    private readonly store: RunStore,
    private readonly written: (runId: string, records: StepRecord[]) => void = () => undefined,
  ) {}

  /**
   * Writes `record` of run `runId` at `epoch` with the next batch of that run. `pushesHeard`: the
   * job's caller hears its store's pushes (StepJobData.pushesHeard).
   * @returns the store's answer for this record
   * @throws the fence's error when the lock was lost before the batch was sent; the store's error (after `callStore`'s retries)
   */
  record(runId: string, epoch: number, record: StepRecord, fence: RecordFence, pushesHeard = false): Promise<RecordOutcome> {
    return new Promise<RecordOutcome>((resolve, reject) => {
      const key = `${epoch}:${runId}`;
      let queue = this.queues.get(key);
      if (queue === undefined) {
        queue = { runId, epoch, waiting: [], flushing: false };
        this.queues.set(key, queue);
      }
      queue.waiting.push({ record, fence, pushesHeard, resolve, reject });
      // After this turn of the event loop: every job whose Redis reply came in it has its record in
      // by then (a microtask caught half as many in the throughput bench: jobs await unevenly).
      if (!queue.flushing && queue.waiting.length === 1) setImmediate(() => this.flush(key, queue));
    });
  }

  /** Sends what `queue` has waiting as one batch, leaving out the records whose lock was lost. */
  private flush(key: string, queue: RunQueue): void {
    if (queue.flushing) return;
    const batch: PendingRecord[] = [];
    for (const pending of queue.waiting) {
      if (pending.fence.check()) batch.push(pending);
      else pending.reject(pending.fence.error);
    }
    queue.waiting = [];
    if (batch.length === 0) {
      this.queues.delete(key);
      return;
    }
    queue.flushing = true;
    const records = batch.map((pending) => pending.record);
    const store = this.store;
    callStoreThen(
      store,
      queue.runId,
      (): Promise<readonly PushedRecordOutcome[]> =>
        pushesRecords(store) && store.recordStepsPushed !== undefined
          ? store.recordStepsPushed(queue.runId, queue.epoch, records)
          : store.recordSteps(queue.runId, queue.epoch, records),
      (outcomes) => {
        const mismatch = recordOutcomesMismatch(outcomes, batch.length);
        if (mismatch !== undefined) {
          for (const pending of batch) pending.reject(mismatch);
        } else {
          // A caller that hears its store's pushes heard of a record the store pushed: no wake-up for it.
          const toWake = records.filter((_, i) => outcomes[i] === 'recorded' || outcomes[i] === 'duplicate' || (outcomes[i] === 'pushed' && !batch[i].pushesHeard));
          if (toWake.length > 0) this.written(queue.runId, toWake);
          for (let i = 0; i < batch.length; i++) batch[i].resolve(outcomes[i] === 'pushed' ? 'recorded' : (outcomes[i] as RecordOutcome));
        }
        this.flushed(key, queue);
      },
      (error: unknown) => {
        for (const pending of batch) pending.reject(error);
        this.flushed(key, queue);
      },
    );
  }

  /** The batch in flight answered: the next one goes, or the run's queue is dropped. */
  private flushed(key: string, queue: RunQueue): void {
    queue.flushing = false;
    if (queue.waiting.length > 0) this.flush(key, queue);
    else this.queues.delete(key);
  }
}
