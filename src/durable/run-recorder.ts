import type { Clock } from '../clock/clock';
import type { RunRecord, RunStatus, RunStore, StepRecord } from '../store/run-store';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { callStore, STORE_CALL_DEADLINE_MS, storeNameOf } from './call-store';
import { LeaseKeeper } from './lease-keeper';
import { RecordBatcher, type RecordSink } from './record-batcher';

/** What a recorder needs to know about the run it records. */
export interface RecordedRun {
  readonly store: RunStore;
  readonly runId: string;
  readonly owner: string;
  readonly epoch: number;
  readonly leaseMs: number;
  /** When the run first started (epoch ms): restored timings are relative to it. */
  readonly firstStartedAt: number;
  /** By step index: the generation a step's record takes in this run. */
  readonly generationOf: Int32Array;
  /** Where lease renewals are timed. */
  readonly clock: Clock;
}

/**
 * The durable side of one run: writes step records in group-committed batches, keeps the
 * run's lease, and writes the run's final status. The run awaits each record before it admits
 * the step's dependents (settle → record → admit → announce).
 */
export class RunRecorder {
  private readonly batcher: RecordBatcher;
  private readonly lease: LeaseKeeper;
  /** The batch in flight at the lease keeper's last check, and how many checks in a row saw it. */
  private watchedBatch = 0;
  private checksInFlight = 0;

  constructor(
    readonly run: RecordedRun,
    sink: RecordSink,
    onLeaseLost: (error: Error) => void,
    onCancelRequested?: (reason: string) => void,
  ) {
    this.batcher = new RecordBatcher(run.store, run.runId, run.epoch, sink);
    // A lost lease also gives up a batch in flight: nothing can be written after it, and a run
    // that was ending waits for that batch (its drain) before it stops the keeper.
    const lost = (error: Error) => {
      this.batcher.giveUp(error);
      onLeaseLost(error);
    };
    this.lease = new LeaseKeeper(run.store, run.runId, run.owner, run.epoch, run.leaseMs, lost, run.clock, this.watchRecords, onCancelRequested);
    this.lease.start();
  }

  /**
   * Checked every third of the lease: a batch of records still unanswered after
   * {@link STORE_CALL_DEADLINE_MS} (a store that hangs) is given up with `StoreUnavailableError`,
   * so the run ends instead of waiting for ever. Counting checks, not reading a clock per batch:
   * nothing added per record.
   */
  private readonly watchRecords = (): void => {
    const batch = this.batcher.batchInFlight;
    if (batch === 0 || batch !== this.watchedBatch) {
      this.watchedBatch = batch;
      this.checksInFlight = 0;
      return;
    }
    const { store, runId, leaseMs } = this.run;
    if (++this.checksInFlight * Math.max(1, Math.floor(leaseMs / 3)) < STORE_CALL_DEADLINE_MS) return;
    this.batcher.giveUp(new StoreUnavailableError(storeNameOf(store), runId, new Error(`recordSteps had no answer within ${STORE_CALL_DEADLINE_MS / 1000} s`)));
  };

  /** The generation a step's record takes in this run. */
  generationAt(index: number): number {
    return this.run.generationOf[index];
  }

  /** Queues step `index`'s record; its outcome comes to the sink once the store acknowledged it. */
  record(index: number, record: StepRecord): void {
    this.batcher.add(index, record);
  }

  /**
   * Ends the run in the store: writes the records still queued (steps that finished while a
   * batch was in flight, before a cancellation or a fast failure), then its final status (and
   * fields), and releases the lease. Nothing is written after a lost lease (the store would
   * refuse it).
   */
  async finish(status: RunStatus, fields: Partial<RunRecord> = {}, leaseLost = false): Promise<void> {
    if (leaseLost) this.batcher.stop();
    else await this.batcher.drain();
    await this.lease.stop();
    if (leaseLost) return;
    const { store, runId, epoch } = this.run;
    await callStore(store, runId, () => store.setRunStatus(runId, epoch, status, { ...fields, leaseUntil: 0 }), this.run.clock);
  }

  /**
   * Stops renewing and reporting without writing (the run ended by a store failure or a lost
   * lease); resolves once a renewal in flight was answered.
   */
  abandon(): Promise<void> {
    this.batcher.stop();
    return this.lease.stop();
  }
}
