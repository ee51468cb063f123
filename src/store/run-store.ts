import type { StepUsageFields } from '../usage/step-usage';

/**
 * The status of a recorded run.
 * - `running`: a process owns it (or crashed owning it: its lease then expires);
 * - `completed`, `failed`, `stopped` (a step returned INCOMPLETE), `aborted` (cancelled).
 */
export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped' | 'aborted';

/** Every {@link RunStatus}. */
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'stopped', 'aborted'];

/** The status of one step's record. */
export type StepRecordStatus = 'completed' | 'failed' | 'incomplete';

/** A value in its stored form: JSON text from {@link encodeValue} (tags for Date, Map, BigInt, …). */
export type EncodedValue = string;

/** An error in its stored form: enough to show and to tell errors apart (`code` survives JSON). */
export interface StoredError {
  name: string;
  code?: string;
  message: string;
  /**
   * A fastroai error's own fields (`stepId`, `timeoutSeconds`, `attempt`, `budgetMicrocents`,
   * `path`, …), so that it comes back as its class (a worker's `StepTimeoutError` is one on
   * the caller too). A store keeps it as part of the error's JSON.
   */
  details?: Record<string, string | number | boolean>;
}

/**
 * A run as a store keeps it. Times are epoch milliseconds (wall clock); money is integer
 * microcents.
 */
export interface RunRecord {
  runId: string;
  pipeline: string;
  /** Identifies the graph: step ids, dependencies and the output step (see `fingerprintOf`). */
  fingerprint: string;
  /** The run's input, encoded. */
  input: EncodedValue;
  status: RunStatus;
  createdAt: number;
  updatedAt: number;
  /** Everything the run's steps were billed, across processes (`addRunCost`). */
  costMicrocents: number;
  /** Who holds the lease: `<hostname>:<pid>:<random>` of the process running it. */
  owner: string;
  /** The fencing epoch: every claim increments it; writes with an older one are refused. */
  epoch: number;
  /** Until when `owner`'s lease is live (epoch ms). */
  leaseUntil: number;
  error?: StoredError;
  /** The ConversationState of a stopped run, encoded. */
  conversationState?: EncodedValue;
}

/** One step's record: the first write per (runId, stepId, generation) wins. */
export interface StepRecord {
  stepId: string;
  /** 1 for a step's first record; a `rerun` or a resume of a failed or incomplete step writes the next one. */
  generation: number;
  status: StepRecordStatus;
  /** The step's output, encoded (a ConversationState for `incomplete`); absent for `failed`. */
  output?: EncodedValue;
  /** What the step's attempts were billed (failed ones included). */
  usage: StepUsageFields;
  error?: StoredError;
  attempts: number;
  startedAt: number;
  endedAt: number;
  /** The worker process that ran the step (distributed runs). */
  workerId?: string;
}

/** What a store answers for each record of a batch. */
export type RecordOutcome = 'recorded' | 'duplicate' | 'stale-epoch';

/** What {@link RunStore.requestCancel} did. */
export type CancelRequestOutcome = 'requested' | 'not-running' | 'missing';

/** A run as claimed: its record (with the new epoch and lease) and every step record so far. */
export interface ClaimedRun {
  run: RunRecord;
  steps: StepRecord[];
  epoch: number;
}

/** A page of runs, newest first. */
export interface RunListQuery {
  pipeline?: string;
  status?: RunStatus;
  /** @default 50 */
  limit?: number;
  /** Where the previous page ended (its `cursor`). */
  cursor?: string;
}

export interface RunListPage {
  runs: RunRecord[];
  /** Present when more runs follow: pass it to get the next page. */
  cursor?: string;
}

/**
 * Where durable runs are recorded (API.md §12). The engine talks only to this contract;
 * `MemoryRunStore`, `SqliteRunStore` (`fastroai/sqlite`), `RedisRunStore` (`fastroai/redis`) and
 * `PostgresRunStore` (`fastroai/postgres`) implement it, and users may write their own.
 *
 * Every method that fails for a reason outside the caller's control (a dropped connection, a
 * locked database) is retried a bounded number of times, then rejects with
 * `StoreUnavailableError` naming the store and the run.
 */
export interface RunStore {
  /** A name for messages (`sqlite:/path/runs.db`, `redis:fastroai:`, `postgres:schema`). */
  readonly name?: string;
  /** Stores a new run as given. @throws RunExistsError when `runId` exists */
  createRun(run: RunRecord): Promise<void>;
  /**
   * Takes the run's lease for `owner`: increments the epoch, sets `owner` and `leaseUntil =
   * now + leaseMs`, and returns the run with every step record, in the order they were recorded
   * (a resume restores a step only when its record came after its dependencies'). The same owner
   * may claim again.
   * @throws RunNotFoundError when the run does not exist
   * @throws RunLockedError when another owner's lease is live
   */
  claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimedRun>;
  /** Extends the lease; false when `owner`/`epoch` no longer hold it (lost to another claim) or the run does not exist. */
  renewLease(runId: string, owner: string, epoch: number, leaseMs: number): Promise<boolean>;
  /**
   * Writes one batch of step records, atomically per record: each is `recorded`, or
   * `duplicate` when (runId, stepId, generation) exists (never overwritten), or every one is
   * `stale-epoch` when `epoch` is not the run's current epoch. Two records of one batch with
   * the same key: the first is `recorded`, the second `duplicate`.
   * @throws RunNotFoundError when the run does not exist
   */
  recordSteps(runId: string, epoch: number, records: StepRecord[]): Promise<RecordOutcome[]>;
  /**
   * Sets the run's status (and any other given fields), and `updatedAt` to the store's clock.
   * `runId`, `epoch` and `createdAt` never change; `error` or `conversationState` given as
   * `undefined` is cleared (another field given as `undefined` is ignored).
   * @throws RunLeaseLostError when `epoch` is not the run's current epoch
   * @throws RunNotFoundError when the run does not exist
   */
  setRunStatus(runId: string, epoch: number, status: RunStatus, fields?: Partial<RunRecord>): Promise<void>;
  /**
   * Adds to the run's spent total atomically; returns the total after adding. Each call is one
   * charge: a store that retries a call whose answer was lost must not add it twice (the
   * built-in Redis and PostgreSQL stores mark each charge applied, by an id its tries share).
   * The engine tries a call again after an error that is not a fastroai error: a store that
   * cannot tell whether a failed call was applied should throw `StoreUnavailableError`.
   * @throws RunNotFoundError when the run does not exist
   */
  addRunCost(runId: string, microcents: number): Promise<number>;
  /** The run and its step records (every generation, in the order they were recorded). */
  getRun(runId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined>;
  /**
   * Optional: one step record by its key, undefined when there is none (nor the run). A read
   * narrower than `getRun` (O(1) rather than O(steps)) for distributed runs, whose caller and
   * workers look up one record per step; stores without it are read with `getRun`.
   */
  getStepRecord?(runId: string, stepId: string, generation: number): Promise<StepRecord | undefined>;
  /**
   * Optional, with {@link cancelRequested} (the four built-in stores have both): asks the
   * process that holds a `running` run to cancel it, for the inspector, which cannot reach that
   * process otherwise. Keeps `reason` for the run's current epoch (a later request replaces
   * it); a later claim (a resume) starts a new epoch, which no request reaches.
   * @returns `requested`; `not-running` when the run's status is not `running` (nothing kept); `missing` when there is no such run
   */
  requestCancel?(runId: string, reason: string): Promise<CancelRequestOutcome>;
  /**
   * Optional, with {@link requestCancel}: the reason of a cancellation asked of the run at
   * `epoch`, or undefined. The process holding the run asks with each lease renewal and, given
   * a reason, cancels the run (`PipelineAbortedError`, the run `aborted`).
   */
  cancelRequested?(runId: string, epoch: number): Promise<string | undefined>;
  /** Runs, newest first (`createdAt`, then `runId`), filtered, a page at a time. */
  listRuns(query?: RunListQuery): Promise<RunListPage>;
  /** Releases connections the store opened itself (not a pool or client it was given). */
  close(): Promise<void>;
}
