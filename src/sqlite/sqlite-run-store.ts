import { statSync } from 'node:fs';
import { optionKeysOf } from '../config/check-option-keys';
import { describeValue } from '../config/step-config';
import { checkStoreOptions } from '../store/check-store-options';
import type { Database, Statement } from 'better-sqlite3';
import type { StepRecordKey } from '../store/step-records-reader';
import { RunExistsError } from '../errors/run-exists-error';
import { FastroAIError } from '../errors/fastroai-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { RunLockedError } from '../errors/run-locked-error';
import { RunNotFoundError } from '../errors/run-not-found-error';
import { retryStoreCall, type StoreRetryPolicy } from '../store/retry-store-call';
import { decodeRunListCursor, encodeRunListCursor, checkRunListQuery } from '../store/run-list-cursor';
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
} from '../store/run-store';
import { settableRunFieldsOf } from '../store/settable-run-fields';
import { runColumnValue, SETTABLE_RUN_COLUMNS } from '../store/sql-run-columns';
import { loadBetterSqlite3, type BetterSqlite3Constructor } from './load-better-sqlite3';
import { SQLITE_SCHEMA } from './sqlite-schema';
import { retryWhileBusy } from './retry-while-busy';
import { waitWhileBusy } from './wait-while-busy';
import {
  rowOfRun,
  rowOfStep,
  runOfRow,
  stepOfRow,
  type RunRow,
  type StepRow,
} from './sqlite-rows';

/** Options of {@link SqliteRunStore}. */
export interface SqliteRunStoreOptions {
  /** The database file (created if absent). Every process that opens it shares its runs. */
  path: string;
  /**
   * How long a call waits for another process's write lock before it fails (and is attempted
   * again, see `attempts`). The call waits without blocking the event loop; opening the file
   * waits with SQLite's `busy_timeout`, blocking it.
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * Attempts of a call that fails with a busy database or an I/O error, before
   * `StoreUnavailableError`.
   * @default 4
   */
  attempts?: number;
  /**
   * SQLite's `synchronous` in WAL mode. `NORMAL` survives any process crash (kill -9 included);
   * `FULL` also survives a power loss, at the price of an fsync per write.
   * @default 'NORMAL'
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * The clock of leases and `updatedAt`, in epoch ms (tests move it to expire a lease).
   * @default Date.now
   */
  now?: () => number;
}

const SQLITE_OPTION_KEYS = optionKeysOf<SqliteRunStoreOptions>({ path: true, busyTimeoutMs: true, attempts: true, synchronous: true, now: true });

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** SQLite result codes worth another attempt: another process holds a lock, or the disk hiccupped. */
const TRANSIENT_CODE = /^SQLITE_(BUSY|LOCKED|IOERR|PROTOCOL|CANTOPEN|FULL)/;

const STEP_COLUMNS = 'step_id, generation, status, output, usage, error, attempts, started_at, ended_at, worker_id';

/**
 * A run store in one SQLite file (better-sqlite3@12): durable runs on one machine with no
 * server, the embedded default. Processes on the same machine share the file: WAL mode, and
 * every check-then-write (a claim, a fenced batch) runs in one `BEGIN IMMEDIATE` transaction, so
 * the lease and the fencing epoch hold across processes. A batch of step records is one
 * transaction (`INSERT … ON CONFLICT DO NOTHING`: the first writer wins); a batch of one record
 * is one statement with the epoch check inside it.
 *
 * better-sqlite3 is synchronous: each call blocks the event loop while SQLite works. A write
 * that finds another process holding the write lock does not wait inside SQLite (which would
 * block the event loop for 1 ms and up a wait): it is attempted again after the event loop ran
 * (see waitWhileBusy), for up to `busyTimeoutMs`.
 *
 * better-sqlite3 is loaded when the first store is built, not when fastroai is imported.
 *
 * @example
 * import { SqliteRunStore } from 'fastroai/sqlite';
 * const store = new SqliteRunStore({ path: 'runs.db' });
 * const result = await pipeline.execute(input, deps, { store });
 * @throws FastroAIError from the constructor when better-sqlite3 is not installed
 * @throws StoreUnavailableError from the constructor when the file cannot be opened or set up
 */
export class SqliteRunStore implements RunStore {
  readonly name: string;
  private readonly db: Database;
  private readonly now: () => number;
  private readonly retry: StoreRetryPolicy;
  private readonly busyTimeoutMs: number;
  private readonly statements = new Map<string, Statement>();
  /** The database file as opened (device and inode); undefined for an in-memory database. */
  private readonly file: { path: string; dev: number; ino: number } | undefined;
  /**
   * Runs its argument in a transaction: `read` a deferred one, `write` a `BEGIN IMMEDIATE` one.
   * Made once: better-sqlite3's `db.transaction(fn)` builds four wrappers per call.
   */
  private readonly transactions: { read: (work: () => unknown) => unknown; write: (work: () => unknown) => unknown };

  constructor(options: SqliteRunStoreOptions) {
    checkStoreOptions('SqliteRunStore', options, SQLITE_OPTION_KEYS);
    if (typeof options.path !== 'string' || options.path === '') {
      throw new TypeError(`SqliteRunStore needs { path }: the database file (created if absent), got ${describeValue(options.path)}`);
    }
    const BetterSqlite3 = loadBetterSqlite3();
    this.name = `sqlite:${options.path}`;
    this.now = options.now ?? Date.now;
    this.retry = {
      storeName: this.name,
      attempts: options.attempts,
      isTransient: (error) => TRANSIENT_CODE.test(String((error as { code?: unknown } | null)?.code)),
      // better-sqlite3 throws a TypeError once the database is closed.
      isUnavailable: (error) => !this.db.open || (error as { code?: unknown } | null)?.code === FILE_GONE,
    };
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.db = openDatabase(BetterSqlite3, options, this.name);
    this.file = identifyFile(options.path);
    const inTransaction = this.db.transaction((work: () => unknown) => work());
    this.transactions = { read: inTransaction, write: inTransaction.immediate };
  }

  async createRun(run: RunRecord): Promise<void> {
    await this.call(run.runId, () => {
      const inserted = this.statement(
        'createRun',
        `INSERT INTO fastroai_runs (run_id, pipeline, fingerprint, input, status, created_at, updated_at, cost_microcents, owner, epoch, lease_until, error, conversation_state)
         VALUES (@run_id, @pipeline, @fingerprint, @input, @status, @created_at, @updated_at, @cost_microcents, @owner, @epoch, @lease_until, @error, @conversation_state)
         ON CONFLICT (run_id) DO NOTHING`,
      ).run(rowOfRun(run));
      if (inserted.changes === 0) throw new RunExistsError(run.runId, this.name);
    });
  }

  async claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimedRun> {
    return this.call(runId, () =>
      this.immediate(() => {
        const row = this.findRun(runId);
        const now = this.now();
        if (row.owner !== owner && row.lease_until > now) throw new RunLockedError(runId, row.owner, row.lease_until);
        const epoch = row.epoch + 1;
        this.statement('claimRun', 'UPDATE fastroai_runs SET epoch = ?, owner = ?, lease_until = ? WHERE run_id = ?').run(epoch, owner, now + leaseMs, runId);
        const run = runOfRow({ ...row, epoch, owner, lease_until: now + leaseMs });
        return { run, steps: this.stepsOf(runId), epoch };
      }),
    );
  }

  async renewLease(runId: string, owner: string, epoch: number, leaseMs: number): Promise<boolean> {
    return this.call(runId, () => {
      const renewed = this.statement('renewLease', 'UPDATE fastroai_runs SET lease_until = ? WHERE run_id = ? AND owner = ? AND epoch = ?').run(
        this.now() + leaseMs,
        runId,
        owner,
        epoch,
      );
      return renewed.changes === 1;
    });
  }

  async requestCancel(runId: string, reason: string): Promise<CancelRequestOutcome> {
    return this.call(runId, () =>
      this.immediate((): CancelRequestOutcome => {
        const row = this.statement('runStatus', 'SELECT status, epoch FROM fastroai_runs WHERE run_id = ?').get(runId) as Pick<RunRow, 'status' | 'epoch'> | undefined;
        if (row === undefined) return 'missing';
        if (row.status !== 'running') return 'not-running';
        this.statement('requestCancel', 'INSERT OR REPLACE INTO fastroai_cancel_requests (run_id, epoch, reason) VALUES (?, ?, ?)').run(runId, row.epoch, String(reason));
        return 'requested';
      }),
    );
  }

  async cancelRequested(runId: string, epoch: number): Promise<string | undefined> {
    return this.call(runId, () => {
      const row = this.statement('cancelRequested', 'SELECT reason FROM fastroai_cancel_requests WHERE run_id = ? AND epoch = ?').get(runId, epoch) as { reason: string } | undefined;
      return row?.reason;
    });
  }

  async recordSteps(runId: string, epoch: number, records: StepRecord[]): Promise<RecordOutcome[]> {
    if (records.length === 1) return this.call(runId, () => [this.recordOneStep(runId, epoch, records[0])]);
    return this.call(runId, () =>
      this.immediate(() => {
        if (this.epochOf(runId) !== epoch) return records.map((): RecordOutcome => 'stale-epoch');
        const insert = this.statement(
          'recordStep',
          `INSERT INTO fastroai_steps (run_id, ${STEP_COLUMNS})
           VALUES (@run_id, @step_id, @generation, @status, @output, @usage, @error, @attempts, @started_at, @ended_at, @worker_id)
           ON CONFLICT (run_id, step_id, generation) DO NOTHING`,
        );
        return records.map((record): RecordOutcome => (insert.run(rowOfStep(runId, record)).changes === 1 ? 'recorded' : 'duplicate'));
      }),
    );
  }

  async setRunStatus(runId: string, epoch: number, status: RunStatus, fields: Partial<RunRecord> = {}): Promise<void> {
    const settable = Object.entries(settableRunFieldsOf(fields)).filter(([field]) => Object.hasOwn(SETTABLE_RUN_COLUMNS, field));
    const assignments = settable.map(([field]) => `, ${SETTABLE_RUN_COLUMNS[field]} = ?`).join('');
    const sql = `UPDATE fastroai_runs SET status = ?, updated_at = ?${assignments} WHERE run_id = ? AND epoch = ?`;
    await this.call(runId, () =>
      this.immediate(() => {
        const values = settable.map(([field, value]) => runColumnValue(field, value));
        const updated = this.statement(sql, sql).run(status, this.now(), ...values, runId, epoch);
        if (updated.changes === 1) return;
        this.findRun(runId);
        throw new RunLeaseLostError(runId, epoch);
      }),
    );
  }

  async addRunCost(runId: string, microcents: number): Promise<number> {
    return this.call(runId, () => {
      const row = this.statement('addRunCost', 'UPDATE fastroai_runs SET cost_microcents = cost_microcents + ? WHERE run_id = ? RETURNING cost_microcents').get(
        microcents,
        runId,
      ) as { cost_microcents: number } | undefined;
      if (row === undefined) throw new RunNotFoundError(runId, this.name);
      return row.cost_microcents;
    });
  }

  async getRun(runId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined> {
    return this.call(runId, () =>
      this.inReadTransaction(() => {
        const row = this.statement('getRun', 'SELECT * FROM fastroai_runs WHERE run_id = ?').get(runId) as RunRow | undefined;
        return row === undefined ? undefined : { run: runOfRow(row), steps: this.stepsOf(runId) };
      }),
    );
  }

  async getStepRecord(runId: string, stepId: string, generation: number): Promise<StepRecord | undefined> {
    return this.call(runId, () => {
      const row = this.statement('getStepRecord', `SELECT run_id, ${STEP_COLUMNS} FROM fastroai_steps WHERE run_id = ? AND step_id = ? AND generation = ?`).get(runId, stepId, generation) as
        | StepRow
        | undefined;
      return row === undefined ? undefined : stepOfRow(row);
    });
  }

  /** @internal Many records of one run (`StepRecordsReader`): one read transaction, one indexed lookup a key. */
  async getStepRecords(runId: string, keys: readonly StepRecordKey[]): Promise<Array<StepRecord | undefined>> {
    return this.call(runId, () =>
      this.inReadTransaction(() => {
        const select = this.statement('getStepRecord', `SELECT run_id, ${STEP_COLUMNS} FROM fastroai_steps WHERE run_id = ? AND step_id = ? AND generation = ?`);
        return keys.map((key) => {
          const row = select.get(runId, key.stepId, key.generation) as StepRow | undefined;
          return row === undefined ? undefined : stepOfRow(row);
        });
      }),
    );
  }

  async listRuns(query: RunListQuery = {}): Promise<RunListPage> {
    const limit = checkRunListQuery(query);
    const after = query.cursor === undefined ? undefined : decodeRunListCursor(query.cursor);
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (query.pipeline !== undefined) {
      conditions.push('pipeline = ?');
      values.push(query.pipeline);
    }
    if (query.status !== undefined) {
      conditions.push('status = ?');
      values.push(query.status);
    }
    if (after !== undefined) {
      conditions.push('(created_at < ? OR (created_at = ? AND run_id < ?))');
      values.push(after.createdAt, after.createdAt, after.runId);
    }
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const sql = `SELECT * FROM fastroai_runs ${where} ORDER BY created_at DESC, run_id DESC LIMIT ?`;
    const rows = await this.call(undefined, () => this.statement(sql, sql).all(...values, limit + 1) as RunRow[]);
    const runs = rows.slice(0, limit).map(runOfRow);
    const last = runs[runs.length - 1];
    return rows.length > limit && last !== undefined ? { runs, cursor: encodeRunListCursor(last) } : { runs };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private call<T>(runId: string | undefined, work: () => T): Promise<T> {
    return retryStoreCall(this.retry, runId, () =>
      waitWhileBusy(() => {
        this.checkFile();
        return work();
      }, this.busyTimeoutMs),
    );
  }

  /**
   * Refuses to go on when the database file was deleted or replaced under the open handle:
   * SQLite would go on writing to the unlinked file and every record would be lost silently
   * (sqlite.org/howtocorrupt.html §2.4). One `stat` per call.
   */
  private checkFile(): void {
    const file = this.file;
    if (file === undefined) return;
    const now = identifyFile(file.path);
    if (now === undefined || now.dev !== file.dev || now.ino !== file.ino) {
      throw Object.assign(new Error(`the database file ${file.path} was deleted or replaced while the store had it open`), { code: FILE_GONE });
    }
  }

  /** Runs `work` in a `BEGIN IMMEDIATE` transaction: it holds the write lock from its first read. */
  private immediate<T>(work: () => T): T {
    return this.transactions.write(work) as T;
  }

  /** Runs `work` in a (deferred) read transaction: its reads see one snapshot. */
  private inReadTransaction<T>(work: () => T): T {
    return this.transactions.read(work) as T;
  }

  /**
   * One record in one statement (a chain's common case): the epoch check is part of the
   * INSERT, so no explicit transaction is needed. When nothing was inserted, the epoch tells a
   * stale writer from a duplicate; epochs only grow, so a stale insert stays stale.
   */
  private recordOneStep(runId: string, epoch: number, record: StepRecord): RecordOutcome {
    const inserted = this.statement(
      'recordOneStep',
      `INSERT INTO fastroai_steps (run_id, ${STEP_COLUMNS})
       SELECT @run_id, @step_id, @generation, @status, @output, @usage, @error, @attempts, @started_at, @ended_at, @worker_id
       WHERE EXISTS (SELECT 1 FROM fastroai_runs WHERE run_id = @run_id AND epoch = @epoch)
       ON CONFLICT (run_id, step_id, generation) DO NOTHING`,
    ).run({ ...rowOfStep(runId, record), epoch });
    if (inserted.changes === 1) return 'recorded';
    return this.epochOf(runId) === epoch ? 'duplicate' : 'stale-epoch';
  }

  /** The run's epoch (its only column a write checks: the whole row holds the input too). @throws RunNotFoundError */
  private epochOf(runId: string): number {
    const epoch = this.statement('epochOf', 'SELECT epoch FROM fastroai_runs WHERE run_id = ?').pluck().get(runId) as number | undefined;
    if (epoch === undefined) throw new RunNotFoundError(runId, this.name);
    return epoch;
  }

  private findRun(runId: string): RunRow {
    const row = this.statement('findRun', 'SELECT * FROM fastroai_runs WHERE run_id = ?').get(runId) as RunRow | undefined;
    if (row === undefined) throw new RunNotFoundError(runId, this.name);
    return row;
  }

  private stepsOf(runId: string): StepRecord[] {
    const rows = this.statement('stepsOf', `SELECT run_id, ${STEP_COLUMNS} FROM fastroai_steps WHERE run_id = ? ORDER BY seq`).all(runId) as StepRow[];
    return rows.map(stepOfRow);
  }

  /** A prepared statement, prepared once per store. */
  private statement(key: string, sql: string): Statement {
    let statement = this.statements.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(key, statement);
    }
    return statement;
  }
}

/** The code of the error `checkFile` raises. */
const FILE_GONE = 'FASTROAI_SQLITE_FILE_GONE';

/** The file at `path` (device and inode), or undefined for `:memory:`, an empty path or a file that is not there. */
function identifyFile(path: string): { path: string; dev: number; ino: number } | undefined {
  if (path === '' || path === ':memory:' || path.startsWith('file:')) return undefined;
  try {
    const stats = statSync(path);
    return { path, dev: stats.dev, ino: stats.ino };
  } catch {
    return undefined;
  }
}

/** Opens the file in WAL mode and creates the tables; any failure means the store is unavailable. */
function openDatabase(BetterSqlite3: BetterSqlite3Constructor, options: SqliteRunStoreOptions, storeName: string): Database {
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(options.path);
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    // busy_timeout first: switching to WAL and creating the tables may wait for another process.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const opened = db;
    retryWhileBusy(() => {
      opened.pragma('journal_mode = WAL');
      opened.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      opened.exec(SQLITE_SCHEMA);
    }, busyTimeoutMs);
    // Opened: from now on a busy call is attempted again without blocking (SqliteRunStore's call).
    db.pragma('busy_timeout = 0');
    return db;
  } catch (error) {
    db?.close();
    if (db === undefined && isMissingNativeModule(error)) {
      throw new FastroAIError(
        `SqliteRunStore: better-sqlite3 is installed but its native module is missing or built for another Node.js (${String((error as Error).message).split('\n')[0]}). ` +
          'Run `npm rebuild better-sqlite3` (its install script builds it; installs with --ignore-scripts skip that).',
        { cause: error },
      );
    }
    throw new StoreUnavailableError(storeName, undefined, error);
  }
}

/** better-sqlite3 failing to load its compiled module: a broken install, not a store outage. */
function isMissingNativeModule(error: unknown): boolean {
  const message = String((error as { message?: unknown } | null)?.message);
  return /Could not locate the bindings file|was compiled against a different Node\.js version|invalid ELF header|NODE_MODULE_VERSION/.test(message);
}
