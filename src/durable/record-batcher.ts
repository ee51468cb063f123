import type { RecordOutcome, RunStore, StepRecord } from '../store/run-store';
import { callStore } from './call-store';

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
  private pending: { index: number; record: StepRecord }[] = [];
  private flushing = false;
  private stopped = false;

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly epoch: number,
    private readonly sink: RecordSink,
  ) {}

  /** True while records wait for the store. */
  get isBusy(): boolean {
    return this.flushing || this.pending.length > 0;
  }

  /** Queues the record of step `index` for the next batch. */
  add(index: number, record: StepRecord): void {
    this.pending.push({ index, record });
    if (!this.flushing && this.pending.length === 1) queueMicrotask(this.flush);
  }

  /** Reports nothing more (the run ended). */
  stop(): void {
    this.stopped = true;
  }

  private readonly flush = async (): Promise<void> => {
    if (this.flushing || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.flushing = true;
    let outcomes: RecordOutcome[];
    try {
      outcomes = await callStore(this.store, this.runId, () =>
        this.store.recordSteps(this.runId, this.epoch, batch.map((entry) => entry.record)),
      );
      if (!Array.isArray(outcomes) || outcomes.length !== batch.length) {
        throw new TypeError(`recordSteps answered ${Array.isArray(outcomes) ? outcomes.length : typeof outcomes} outcomes for ${batch.length} records`);
      }
    } catch (error) {
      this.flushing = false;
      if (!this.stopped) this.sink.storeFailed(error);
      return;
    }
    this.flushing = false;
    if (this.stopped) return;
    for (let i = 0; i < batch.length; i++) this.sink.recorded(batch[i].index, outcomes[i], batch[i].record);
    if (this.pending.length > 0) void this.flush();
  };
}
