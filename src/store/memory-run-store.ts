import { RunExistsError } from '../errors/run-exists-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { RunLockedError } from '../errors/run-locked-error';
import { RunNotFoundError } from '../errors/run-not-found-error';
import { copyRunRecord, copyStepRecord } from './copy-record';
import { compareRunsNewestFirst, decodeRunListCursor, encodeRunListCursor, runListLimitOf } from './run-list-cursor';
import type {
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
  /**
   * Every record in write order, kept once a later generation was written; before that (nearly
   * every run), `firstGeneration`'s own order is the write order: no array grown per record.
   */
  mixed: StepRecord[] | undefined;
  /** The records of generation 1 (nearly every record) by step id: first-writer-wins, and `getStepRecord` without a scan. */
  firstGeneration: Map<string, StepRecord>;
  /** The records of later generations, by `generation:stepId`. */
  laterGenerations: Map<string, StepRecord>;
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
    this.runs.set(run.runId, { run: copyRunRecord(run), mixed: undefined, firstGeneration: new Map(), laterGenerations: new Map() });
  }

  async claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimedRun> {
    const stored = this.find(runId);
    const now = this.now();
    const { run } = stored;
    if (run.owner !== owner && run.leaseUntil > now) throw new RunLockedError(runId, run.owner, run.leaseUntil);
    run.epoch += 1;
    run.owner = owner;
    run.leaseUntil = now + leaseMs;
    return { run: copyRunRecord(run), steps: recordsOf(stored).map((record) => copyStepRecord(record)), epoch: run.epoch };
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
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      const index = record.generation === 1 ? stored.firstGeneration : stored.laterGenerations;
      const key = recordKeyOf(record.stepId, record.generation);
      if (index.has(key)) {
        outcomes[i] = 'duplicate';
        continue;
      }
      const kept = copyStepRecord(record, true);
      if (record.generation !== 1) stored.mixed ??= [...stored.firstGeneration.values()];
      index.set(key, kept);
      stored.mixed?.push(kept);
      outcomes[i] = 'recorded';
    }
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

  async getRun(runId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined> {
    const stored = this.runs.get(runId);
    if (stored === undefined) return undefined;
    return { run: copyRunRecord(stored.run), steps: recordsOf(stored).map((record) => copyStepRecord(record)) };
  }

  async getStepRecord(runId: string, stepId: string, generation: number): Promise<StepRecord | undefined> {
    const stored = this.runs.get(runId);
    if (stored === undefined) return undefined;
    const found = (generation === 1 ? stored.firstGeneration : stored.laterGenerations).get(recordKeyOf(stepId, generation));
    return found === undefined ? undefined : copyStepRecord(found);
  }

  /** @internal Many records of one run (`StepRecordsReader`): one pass over the run's records. */
  async getStepRecords(runId: string, keys: readonly StepRecordKey[]): Promise<Array<StepRecord | undefined>> {
    const byKey = new Map<string, StepRecord>();
    const stored = this.runs.get(runId);
    for (const record of stored === undefined ? [] : recordsOf(stored)) {
      const key = `${record.generation}:${record.stepId}`;
      if (!byKey.has(key)) byKey.set(key, record);
    }
    return keys.map((key) => {
      const found = byKey.get(`${key.generation}:${key.stepId}`);
      return found === undefined ? undefined : copyStepRecord(found);
    });
  }

  async listRuns(query: RunListQuery = {}): Promise<RunListPage> {
    const limit = runListLimitOf(query.limit);
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

/** A run's records in write order. */
function recordsOf(stored: StoredRun): readonly StepRecord[] {
  return stored.mixed ?? [...stored.firstGeneration.values()];
}

/** A record's key in its generation's index: the step id for generation 1, `generation:stepId` after. */
function recordKeyOf(stepId: string, generation: number): string {
  return generation === 1 ? stepId : `${generation}:${stepId}`;
}
