import { RunExistsError } from '../errors/run-exists-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { RunLockedError } from '../errors/run-locked-error';
import { RunNotFoundError } from '../errors/run-not-found-error';
import { copyRunRecord } from './copy-record';
import { compareRunsNewestFirst, decodeRunListCursor, encodeRunListCursor, checkRunListQuery } from './run-list-cursor';
import type {
  CancelRequestOutcome,
  ClaimedRun,
  RecordOutcome,
  RunListPage,
  RunListQuery,
  RunRecord,
  RunStatus,
  RunStore,
  StepRecord,
} from './run-store';
import { settableRunFieldsOf } from './settable-run-fields';
import { StepRecordColumns } from './step-record-columns';
import type { StepRecordKey } from './step-records-reader';

/** Options of {@link MemoryRunStore}. */
export interface MemoryRunStoreOptions {
  /**
   * The clock of leases and `updatedAt`, in epoch ms (tests move it to expire a lease).
   * @default Date.now
   */
  now?: () => number;
}

interface StoredRun {
  run: RunRecord;
  /** Its step records, in write order. */
  records: StepRecordColumns;
  /** A cancellation asked of the run at an epoch (`requestCancel`). */
  cancel?: { epoch: number; reason: string };
}

/**
 * A run store in this process's memory: the reference implementation of {@link RunStore}.
 * Nothing survives the process, so it serves tests, `resume` after an `INCOMPLETE` stop in
 * the same process, and as the model the other stores are tested against. It keeps copies:
 * a caller that mutates a record after writing it (or one it read) changes nothing stored.
 *
 * @example
 * const pipeline = new Pipeline({ name: 'booking', steps, store: new MemoryRunStore() });
 */
export class MemoryRunStore implements RunStore {
  readonly name = 'memory';
  private readonly runs = new Map<string, StoredRun>();
  private readonly now: () => number;

  constructor(options: MemoryRunStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async createRun(run: RunRecord): Promise<void> {
    if (this.runs.has(run.runId)) throw new RunExistsError(run.runId, this.name);
    this.runs.set(run.runId, { run: copyRunRecord(run), records: new StepRecordColumns() });
  }

  async claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimedRun> {
    const stored = this.find(runId);
    const now = this.now();
    const { run } = stored;
    if (run.owner !== owner && run.leaseUntil > now) throw new RunLockedError(runId, run.owner, run.leaseUntil);
    run.epoch += 1;
    run.owner = owner;
    run.leaseUntil = now + leaseMs;
    return { run: copyRunRecord(run), steps: stored.records.records(), epoch: run.epoch };
  }

  async renewLease(runId: string, owner: string, epoch: number, leaseMs: number): Promise<boolean> {
    const run = this.runs.get(runId)?.run;
    if (run === undefined || run.owner !== owner || run.epoch !== epoch) return false;
    run.leaseUntil = this.now() + leaseMs;
    return true;
  }

  async recordSteps(runId: string, epoch: number, records: StepRecord[]): Promise<RecordOutcome[]> {
    const stored = this.find(runId);
    if (stored.run.epoch !== epoch) return records.map(() => 'stale-epoch');
    // Of its exact size: an array grown by `push` starts with 17 slots, for a chain's one record.
    const outcomes = new Array<RecordOutcome>(records.length);
    for (let i = 0; i < records.length; i++) outcomes[i] = stored.records.add(records[i]) ? 'recorded' : 'duplicate';
    return outcomes;
  }

  async setRunStatus(runId: string, epoch: number, status: RunStatus, fields: Partial<RunRecord> = {}): Promise<void> {
    const stored = this.find(runId);
    if (stored.run.epoch !== epoch) throw new RunLeaseLostError(runId, epoch);
    const run: RunRecord = { ...stored.run, ...copyRunRecord(settableRunFieldsOf(fields) as RunRecord), status, updatedAt: this.now() };
    for (const key of Object.keys(run) as (keyof RunRecord)[]) {
      if (run[key] === undefined) delete run[key];
    }
    stored.run = run;
  }

  async addRunCost(runId: string, microcents: number): Promise<number> {
    const { run } = this.find(runId);
    run.costMicrocents += microcents;
    return run.costMicrocents;
  }

  async requestCancel(runId: string, reason: string): Promise<CancelRequestOutcome> {
    const stored = this.runs.get(runId);
    if (stored === undefined) return 'missing';
    if (stored.run.status !== 'running') return 'not-running';
    stored.cancel = { epoch: stored.run.epoch, reason: String(reason) };
    return 'requested';
  }

  async cancelRequested(runId: string, epoch: number): Promise<string | undefined> {
    const cancel = this.runs.get(runId)?.cancel;
    return cancel?.epoch === epoch ? cancel.reason : undefined;
  }

  async getRun(runId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined> {
    const stored = this.runs.get(runId);
    if (stored === undefined) return undefined;
    return { run: copyRunRecord(stored.run), steps: stored.records.records() };
  }

  async getStepRecord(runId: string, stepId: string, generation: number): Promise<StepRecord | undefined> {
    const stored = this.runs.get(runId);
    if (stored === undefined) return undefined;
    return stored.records.get(stepId, generation);
  }

  /** @internal Many records of one run (`StepRecordsReader`): a lookup each. */
  async getStepRecords(runId: string, keys: readonly StepRecordKey[]): Promise<Array<StepRecord | undefined>> {
    const records = this.runs.get(runId)?.records;
    return keys.map((key) => records?.get(key.stepId, key.generation));
  }

  async listRuns(query: RunListQuery = {}): Promise<RunListPage> {
    const limit = checkRunListQuery(query);
    const after = query.cursor === undefined ? undefined : decodeRunListCursor(query.cursor);
    const matching = [...this.runs.values()]
      .map((stored) => stored.run)
      .filter((run) => (query.pipeline === undefined || run.pipeline === query.pipeline) && (query.status === undefined || run.status === query.status))
      .filter((run) => after === undefined || compareRunsNewestFirst(after, run) < 0)
      .sort(compareRunsNewestFirst);
    const runs = matching.slice(0, limit).map(copyRunRecord);
    const last = runs[runs.length - 1];
    return matching.length > limit && last !== undefined ? { runs, cursor: encodeRunListCursor(last) } : { runs };
  }

  async close(): Promise<void> {
    // Nothing to release: the runs stay readable until the store is garbage-collected.
  }

  private find(runId: string): StoredRun {
    const stored = this.runs.get(runId);
    if (stored === undefined) throw new RunNotFoundError(runId, this.name);
    return stored;
  }
}
