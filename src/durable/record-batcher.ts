import type { RecordOutcome, RunStore, StepRecord } from '../store/run-store';
import { recordOutcomesMismatch } from '../store/record-outcomes-mismatch';
import { StoreCall } from './call-store';

/** Where a {@link RecordBatcher} reports. */
export interface RecordSink {
  /** The store answered for the record of step `index`. */
  recorded(index: number, outcome: RecordOutcome, record: StepRecord): void;
  /** The store failed for good (after `callStore`'s retries): the run cannot go on. */
  storeFailed(error: unknown): void;
  /**
   * The run's running steps, those that ran and wait for their record included (see
   * {@link RecordBatcher.add}); without it, a record always waits a microtask for others.
   */
  runningSteps?(): number;
}

/**
 * Group commit of step records: records added in the same tick go to the store in one
 * `recordSteps` call, and records added while a call is in flight go in the next one, so a
 * 1,000-wide fan-out costs a handful of round trips, not 1,000. Each record's outcome is
 * reported once the store acknowledged its batch: only then may the run admit dependents.
 */
export class RecordBatcher {
  /**
   * Pending records and their step indices, side by side (no object per record), in arrays
   * kept from batch to batch: the first `pendingCount` slots hold the pending ones. A fresh
   * array per batch would grow a 17-slot backing store on its first push, twice per step of a
   * chain.
   */
  private pendingIndices: number[] = [];
  private readonly pendingRecords: Array<StepRecord | undefined> = [];
  private pendingCount = 0;
  /**
   * The batch the store is writing (one at a time): its records in an array of their own, of
   * its exact size (the store is handed it); their indices in the other index array, the two
   * swapped at each flush (neither leaves the batcher).
   */
  private sentIndices: number[] = [];
  private sentRecords: StepRecord[] = NO_RECORDS;
  private flushing = false;
  /** Reporting to the sink; not once the run ended (`stop`, `drain`). */
  private stopped = false;
  /** While {@link drain} writes what is left: resolves it. Unset before, and again once drained: nothing is sent then. */
  private drained: (() => void) | undefined;
  /** Batches sent so far: a watchdog tells a batch in flight for long from a new one ({@link batchInFlight}). */
  private sentBatches = 0;
  /** Set by {@link giveUp}: a late answer of the store is ignored. */
  private gaveUp = false;
  /** The batch's store call (bounded retries), made once: nothing allocated per batch but the call's promise. */
  private readonly call: StoreCall<RecordOutcome[]>;

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly epoch: number,
    private readonly sink: RecordSink,
  ) {
    this.call = new StoreCall(store, runId, this.send, this.answered, this.failed);
  }

  /**
   * Queues the record of step `index` for the next batch, sent once this turn of the event loop
   * is done (with the records of the steps that end meanwhile), or at once when no other step can end in this
   * tick: every step the run counts as running (the sink's `runningSteps`) is one whose record
   * is pending here. That is each step of a chain: one microtask less per step.
   */
  add(index: number, record: StepRecord): void {
    const at = this.pendingCount++;
    this.pendingIndices[at] = index;
    this.pendingRecords[at] = record;
    if (this.flushing) return;
    if (this.sink.runningSteps?.() === this.pendingCount) this.flush();
    // After this turn of the event loop: the records of steps that end in it (timers due
    // together, replies read together) go in one batch; a microtask caught only those of one
    // timer or one reply (Node runs microtasks after each callback).
    else if (this.pendingCount === 1) setImmediate(this.flush);
  }

  /** The number of the batch the store is writing, or 0 when none is. */
  get batchInFlight(): number {
    return this.flushing ? this.sentBatches : 0;
  }

  /**
   * Gives up on the batch in flight, whose store call never answered (a store that hangs):
   * reports `error` as the store's failure (unless the run already ended), ends a drain, and
   * sends nothing more; a late answer is ignored. Those steps run again on resume.
   */
  giveUp(error: unknown): void {
    if (this.gaveUp) return;
    this.gaveUp = true;
    const reporting = !this.stopped;
    this.stopped = true;
    this.flushing = false;
    this.sentRecords = NO_RECORDS;
    this.pendingCount = 0;
    this.pendingRecords.fill(undefined);
    if (reporting) this.sink.storeFailed(error);
    const drained = this.drained;
    this.drained = undefined;
    drained?.();
  }

  /** Reports nothing more and sends nothing more (the run ended and cannot write: a lost lease, a failing store). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Reports nothing more, and resolves once every record added so far is in the store: the
   * batch in flight answered, then what is pending sent as one more batch. A run that ends
   * (cancelled, failed fast) has steps that finished while a batch was in flight: their records
   * go to the store before the run's final status, so a resume does not run (nor pay for) them
   * again. A write that fails for good is let go (those steps run again on resume); the run's
   * final status write then meets the same store.
   */
  drain(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    return new Promise<void>((resolve) => {
      this.drained = resolve;
      if (!this.flushing) this.drainNext();
    });
  }

  /** While draining: sends what is pending, or, with nothing pending, ends the drain (nothing is sent after it). */
  private drainNext(): void {
    if (this.pendingCount > 0) {
      this.flush();
      return;
    }
    const drained = this.drained;
    this.drained = undefined;
    drained?.();
  }

  /**
   * Sends what is pending as one batch; reports each record's outcome once the store answered.
   * The store call and its two answers are functions made once per batcher: none per batch.
   */
  private readonly flush = (): void => {
    const count = this.pendingCount;
    // Stopped: the run ended (a handler may cancel it while it hears a batch's outcomes); what
    // is pending is then sent only by `drain`, which the run's final status waits for.
    if (this.flushing || count === 0 || (this.stopped && this.drained === undefined)) return;
    const records = new Array<StepRecord>(count);
    for (let i = 0; i < count; i++) {
      records[i] = this.pendingRecords[i]!;
      this.pendingRecords[i] = undefined; // nothing kept past its batch
    }
    const indices = this.pendingIndices;
    this.pendingIndices = this.sentIndices;
    this.sentIndices = indices;
    this.pendingCount = 0;
    this.sentRecords = records;
    this.flushing = true;
    this.sentBatches++;
    this.call.start();
  };

  private readonly send = (): Promise<RecordOutcome[]> => this.store.recordSteps(this.runId, this.epoch, this.sentRecords);

  private readonly answered = (outcomes: RecordOutcome[]): void => {
    if (this.gaveUp) return;
    const indices = this.sentIndices;
    const records = this.sentRecords;
    const mismatch = recordOutcomesMismatch(outcomes, records.length);
    if (mismatch !== undefined) {
      this.failed(mismatch);
      return;
    }
    if (this.stopped) {
      this.flushing = false;
      this.sentRecords = NO_RECORDS;
      this.drainNext();
      return;
    }
    // Still flushing while the sink hears the outcomes: a record added meanwhile waits in the
    // pending batch, sent right after.
    for (let i = 0; i < records.length; i++) this.sink.recorded(indices[i], outcomes[i], records[i]);
    this.sentRecords = NO_RECORDS;
    this.flushing = false;
    if (this.pendingCount > 0) this.flush();
  };

  private readonly failed = (error: unknown): void => {
    if (this.gaveUp) return;
    this.flushing = false;
    this.sentRecords = NO_RECORDS;
    if (!this.stopped) {
      this.sink.storeFailed(error);
      return;
    }
    // Draining: what is still pending would meet the same store; let it go.
    this.pendingCount = 0;
    this.pendingRecords.fill(undefined);
    this.drainNext();
  };
}

const NO_RECORDS: StepRecord[] = [];

