import type { RecordOutcome, RunStore, StepRecord } from '../store/run-store';
import { callStoreThen } from './call-store';

/** Where a {@link RecordBatcher} reports. */
export interface RecordSink {
  /** The store answered for the record of step `index`. */
  recorded(index: number, outcome: RecordOutcome, record: StepRecord): void;
  /** The store failed for good (after `callStore`'s retries): the run cannot go on. */
  storeFailed(error: unknown): void;
}

/**
 * Group commit of step records: records added in the same tick go to the store in one
 * `recordSteps` call, and records added while a call is in flight go in the next one, so a
 * 1,000-wide fan-out costs a handful of round trips, not 1,000. Each record's outcome is
 * reported once the store acknowledged its batch: only then may the run admit dependents.
 */
export class RecordBatcher {
  /** Pending records and their step indices, side by side (no object per record). */
  private indices: number[] = [];
  private records: StepRecord[] = [];
  private flushing = false;
  private stopped = false;

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly epoch: number,
    private readonly sink: RecordSink,
  ) {}

  /** Queues the record of step `index` for the next batch. */
  add(index: number, record: StepRecord): void {
    this.indices.push(index);
    this.records.push(record);
    // A reaction on a settled promise: the same microtask queue as `queueMicrotask`, cheaper.
    if (!this.flushing && this.records.length === 1) SETTLED.then(this.flush);
  }

  /** Reports nothing more (the run ended). */
  stop(): void {
    this.stopped = true;
  }

  /** Sends what is pending as one batch; reports each record's outcome once the store answered. */
  private readonly flush = (): void => {
    if (this.flushing || this.records.length === 0) return;
    const indices = this.indices;
    const records = this.records;
    this.indices = [];
    this.records = [];
    this.flushing = true;
    callStoreThen(
      this.store,
      this.runId,
      () => this.store.recordSteps(this.runId, this.epoch, records),
      (outcomes) => this.answered(indices, records, outcomes),
      (error: unknown) => this.failed(error),
    );
  };

  private answered(indices: number[], records: StepRecord[], outcomes: RecordOutcome[]): void {
    this.flushing = false;
    if (!Array.isArray(outcomes) || outcomes.length !== records.length) {
      this.failed(new TypeError(`recordSteps answered ${Array.isArray(outcomes) ? outcomes.length : typeof outcomes} outcomes for ${records.length} records`));
      return;
    }
    if (this.stopped) return;
    for (let i = 0; i < records.length; i++) this.sink.recorded(indices[i], outcomes[i], records[i]);
    if (this.records.length > 0) this.flush();
  }

  private failed(error: unknown): void {
    this.flushing = false;
    if (!this.stopped) this.sink.storeFailed(error);
  }
}

/** A settled promise to queue microtasks on. */
const SETTLED: Promise<void> = Promise.resolve();
