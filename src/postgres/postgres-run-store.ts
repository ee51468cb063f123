import { optionKeysOf } from '../config/check-option-keys';
import { checkStoreOptions } from '../store/check-store-options';
import { createHash, randomUUID } from 'node:crypto';
import type { Client, ClientConfig, Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import type { StepRecordKey } from '../store/step-records-reader';
import { FastroAIError } from '../errors/fastroai-error';
import { RunExistsError } from '../errors/run-exists-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { RunLockedError } from '../errors/run-locked-error';
import { RunNotFoundError } from '../errors/run-not-found-error';
import { requireOptionalPeer } from '../store/require-optional-peer';
import { retryTransient, type TransientRetryPolicy } from '../store/retry-transient';
import { decodeRunListCursor, encodeRunListCursor, checkRunListQuery } from '../store/run-list-cursor';
import type { CancelRequestOutcome, ClaimedRun, RecordOutcome, RunListPage, RunListQuery, RunRecord, RunStatus, RunStore, StepRecord } from '../store/run-store';
import { settableRunFieldsOf } from '../store/settable-run-fields';
import { runOfRow, stepOfRow, type RunRow, type StepRow } from './postgres-rows';
import { runColumnValue, SETTABLE_RUN_COLUMNS } from '../store/sql-run-columns';
import { LATER_RELATIONS, STORE_RELATIONS, createLaterTablesSqlOf, createTablesSqlOf, quotedSchemaOf } from './postgres-schema';
import type { PgStatement } from './named-statement';
import { perStepStatementsOf, type PerStepStatements } from './per-step-statements';
import { PostgresPushListener } from './postgres-push-listener';
import type { PushedRecordsListener, PushedRunFilter, RecordWatch } from '../store/record-pusher';

/** Options of {@link PostgresRunStore}. */
export interface PostgresRunStoreOptions {
  /** A pg Pool to use (the store never ends it). Give `pool` or `connectionString`, not both. */
  pool?: Pool;
  /**
   * Where the store opens a Pool of its own (ended in `close()`), e.g.
   * `postgres://user@host:5432/db?application_name=myapp`. With neither this nor `pool`, pg
   * reads the `PG*` environment variables.
   */
  connectionString?: string;
  /**
   * The schema of the store's tables (`runs`, `steps`, `charges`), created on first use.
   * @default 'fastroai'
   */
  schema?: string;
  /**
   * The clock of leases and `updatedAt`, in epoch ms.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Retries of a call that failed on the connection, before `StoreUnavailableError`.
   * @default 3
   */
  retries?: number;
  /**
   * Whether `recordSteps` pushes the records it writes first to the store's watchers (a `NOTIFY`
   * in the same statement, sent at commit): a distributed run's caller then settles those steps
   * without reading them, and workers get the records that ready their steps without reading
   * them (see "Scaling out" in the README). Two costs, why it is off by default: PostgreSQL makes
   * the commits of transactions that NOTIFY wait for each other, server-wide (every store's
   * `recordSteps`, and any other application's NOTIFY); and NOTIFY channels have no privileges:
   * any role that can connect to the database can LISTEN and read the pushed outputs. Not
   * through PgBouncer in transaction mode (LISTEN needs a session).
   * @default false
   */
  pushRecords?: boolean;
  /**
   * Whether the statements a run sends per step (`recordSteps`, step reads, `renewLease`,
   * `addRunCost`) are named prepared statements, parsed and planned once per connection. Turn it
   * off behind a pooler that cannot keep them across transactions (PgBouncer in transaction mode
   * before 1.21, or with `max_prepared_statements = 0`).
   * @default true
   */
  preparedStatements?: boolean;
  /**
   * How long a statement on the store's own pool may run, in ms, before the server cancels it
   * (`statement_timeout`: rolled back, then retried, as after a dropped connection); the client
   * gives up 2 s later still (pg's `query_timeout`), so a connection that went silent (a network
   * partition, a frozen server) fails the call instead of hanging the run. The store's
   * connections also send TCP keep-alives. A pool given as `pool` keeps its own settings.
   * @default 10_000
   */
  queryTimeoutMs?: number;
}

const POSTGRES_OPTION_KEYS = optionKeysOf<PostgresRunStoreOptions>({ pool: true, connectionString: true, schema: true, now: true, retries: true, preparedStatements: true, queryTimeoutMs: true, pushRecords: true });

/** SQLSTATEs that say "try again" (connection lost, statement timed out and rolled back, server shutting down, serialization) rather than "this statement is wrong". */
const TRANSIENT_SQLSTATE = /^(08...|57014|57P0[123]|53300|40001|40P01)$/;

function isTransientPgError(error: unknown): boolean {
  // Not `instanceof Error`: errors of Node's own sockets may come from another realm (a VM context, jest).
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  // A server error carries a severity and a SQLSTATE; anything else (ECONNRESET, "Connection
  // terminated unexpectedly", a connect timeout) happened on the way to the server.
  if (typeof severity === 'string' && typeof code === 'string') return TRANSIENT_SQLSTATE.test(code);
  return true;
}

/** SQLSTATE: a relation that does not exist; a permission this role lacks. */
const UNDEFINED_TABLE = '42P01';
const INSUFFICIENT_PRIVILEGE = '42501';

/** How often (at most, per store) `addRunCost` deletes the charges past CHARGE_KEPT_MS (by the server's clock). */
const CHARGE_PRUNE_INTERVAL_MS = 60_000;

/** The columns of `recordSteps` sent as JSON arrays (output, usage, error), by index. */
const JSON_COLUMNS = new Set([3, 4, 5]);

function ignoreIdleClientError(): void {
  // An idle client whose connection dropped: the pool discards it, and the next query gets a new one.
}

/**
 * A run store on PostgreSQL (pg 8), for runs shared by processes and machines (API.md §12).
 *
 * It creates its schema and tables on first use (once per store, serialized across processes
 * by an advisory lock). Every method is one statement: `recordSteps` writes a whole batch with
 * one multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING`, in the same statement as the
 * `SELECT … FOR SHARE` that checks the fencing epoch; `claimRun`, `setRunStatus` and
 * `renewLease` are single `UPDATE`s; `addRunCost` inserts the charge's row (an id every try
 * of the charge shares, kept 10 minutes) and adds to the total only when the row went in, so
 * a charge whose answer was lost and is tried again is added once (a charge of 0 only reads
 * the total). The statements sent per step are named prepared statements
 * (`preparedStatements`), parsed and planned once per connection. Each `recordSteps` commits,
 * and a commit waits for PostgreSQL's WAL flush: that is most of what a step costs (a server
 * with `synchronous_commit = off` acknowledges sooner, and may lose the last acknowledged
 * records if it crashes). Encoded values are TEXT (the codec's JSON byte for byte); epoch ms
 * and microcents are BIGINT. `listRuns` reads an index on
 * (`created_at`, `run_id`). A call that fails on the connection (a terminated backend, a
 * restart) is retried (`retries`), then rejects with `StoreUnavailableError` naming
 * `postgres:<schema>` and the run. The store listens for the pool's `error` event, so an idle
 * client whose connection is terminated does not crash the process.
 *
 * @example
 * import { PostgresRunStore } from 'fastroai/postgres';
 * const store = new PostgresRunStore({ connectionString: process.env.DATABASE_URL, schema: 'runs' });
 * const pipeline = new Pipeline({ name: 'booking', steps, store });
 */
export class PostgresRunStore implements RunStore {
  readonly name: string;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly addedErrorListener: boolean;
  private readonly schema: string;
  private readonly now: () => number;
  private readonly retryPolicy: TransientRetryPolicy;
  private readonly statements: PerStepStatements;
  private tablesReady: Promise<void> | undefined;
  /** With `pushRecords`: the NOTIFY channel of `recordSteps`' pushes, one per schema (a database's channels are its own). */
  private readonly pushChannel: string | undefined;
  private pushListener: PostgresPushListener | undefined;
  /** The options of the pool's connections, for the one that listens (outside the pool: it never goes back to it). */
  private readonly clientOptions: ClientConfig;
  /**
   * @internal With `pushRecords` only: watches the records this store's writes put there first,
   * in any process (`RecordPusher`); a connection of the store's own (not the pool's) listens
   * while any watch is open.
   */
  readonly watchRecords?: (listener: PushedRecordsListener, wants?: PushedRunFilter) => Promise<RecordWatch>;
  /** When `addRunCost` next deletes old charges (this process's clock, epoch ms). */
  private nextChargePruneAt = 0;

  /**
   * @throws FastroAIError when given both `pool` and `connectionString`, a schema that is not
   * a plain identifier, or no pool while pg is not installed
   */
  constructor(options: PostgresRunStoreOptions = {}) {
    checkStoreOptions('PostgresRunStore', options, POSTGRES_OPTION_KEYS);
    const schema = options.schema ?? 'fastroai';
    this.schema = quotedSchemaOf(schema);
    this.name = `postgres:${schema}`;
    this.now = options.now ?? Date.now;
    const retries = options.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0) throw new FastroAIError(`Expected PostgresRunStore retries to be an integer from 0 up, got ${String(retries)}`);
    this.retryPolicy = { storeName: this.name, retries, delayMs: (retry) => 100 * retry, isTransient: isTransientPgError };
    const pushRecords = options.pushRecords ?? false;
    if (typeof pushRecords !== 'boolean') throw new FastroAIError(`Expected PostgresRunStore pushRecords to be a boolean, got ${String(pushRecords)}`);
    this.statements = perStepStatementsOf(this.schema, options.preparedStatements ?? true, pushRecords);
    if (pushRecords) {
      const channel = `fastroai_records_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
      this.pushChannel = channel;
      this.watchRecords = (listener, wants) => {
        this.pushListener ??= new PostgresPushListener(() => this.listeningClient(), channel, this.name);
        return this.pushListener.watch(listener, wants);
      };
    }
    if (options.pool !== undefined && options.connectionString !== undefined) {
      throw new FastroAIError('PostgresRunStore takes a pool or a connectionString, not both');
    }
    if (options.pool !== undefined) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else {
      const { Pool: PgPool } = requireOptionalPeer<typeof import('pg')>('pg', '8', 'PostgresRunStore');
      const queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
      if (!Number.isInteger(queryTimeoutMs) || queryTimeoutMs < 1) throw new FastroAIError(`Expected PostgresRunStore queryTimeoutMs to be a whole number of ms from 1 up, got ${String(queryTimeoutMs)}`);
      this.pool = new PgPool({
        connectionString: options.connectionString,
        application_name: 'fastroai',
        connectionTimeoutMillis: 10_000,
        // The server cancels a statement that runs too long (rolled back: a retry cannot apply it
        // twice); the client's own timeout, later, only catches a connection that went silent.
        statement_timeout: queryTimeoutMs,
        query_timeout: queryTimeoutMs + 2_000,
        keepAlive: true,
      });
      this.ownsPool = true;
    }
    this.clientOptions = (this.pool as unknown as { options: ClientConfig }).options;
    // pg emits `error` for an idle client whose connection was terminated: unheard, it crashes the process.
    this.addedErrorListener = this.ownsPool || this.pool.listenerCount('error') === 0;
    if (this.addedErrorListener) this.pool.on('error', ignoreIdleClientError);
  }

  async createRun(run: RunRecord): Promise<void> {
    const values = [
      run.runId, run.pipeline, run.fingerprint, run.input, run.status, run.createdAt, run.updatedAt, run.costMicrocents,
      run.owner, run.epoch, run.leaseUntil, runColumnValue('error', run.error), runColumnValue('conversationState', run.conversationState),
    ];
    // A retry after a lost reply finds the run it wrote itself: that is a success, not RunExistsError.
    const created = await this.query<RunRow>(
      run.runId,
      `INSERT INTO ${this.schema}.runs (run_id, pipeline, fingerprint, input, status, created_at, updated_at, cost_microcents, owner, epoch, lease_until, error, conversation_state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (run_id) DO NOTHING`,
      values,
      async (result) => (result.rowCount === 0 && (await this.holdsCreatedRun(run)) ? { ...result, rowCount: 1 } : result),
    );
    if (created.rowCount === 0) throw new RunExistsError(run.runId, this.name);
  }

  async claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimedRun> {
    const now = this.now();
    const claimed = await this.query<RunRow>(
      runId,
      `UPDATE ${this.schema}.runs SET epoch = epoch + 1, owner = $2, lease_until = $4
       WHERE run_id = $1 AND (owner = $2 OR lease_until <= $3) RETURNING *`,
      [runId, owner, now, now + leaseMs],
    );
    if (claimed.rows.length === 0) {
      const holder = await this.query<RunRow>(runId, `SELECT owner, lease_until FROM ${this.schema}.runs WHERE run_id = $1`, [runId]);
      if (holder.rows.length === 0) throw new RunNotFoundError(runId, this.name);
      throw new RunLockedError(runId, holder.rows[0].owner, Number(holder.rows[0].lease_until));
    }
    const run = runOfRow(claimed.rows[0]);
    return { run, steps: await this.stepsOf(runId), epoch: run.epoch };
  }

  async renewLease(runId: string, owner: string, epoch: number, leaseMs: number): Promise<boolean> {
    const renewed = await this.query(runId, this.statements.renewLease, [runId, owner, epoch, this.now() + leaseMs]);
    return renewed.rowCount === 1;
  }

  /**
   * @throws FastroAIError when its table `cancel_requests` (added after the first release) is
   * missing or not writable by this role, naming the statement that creates it
   */
  async requestCancel(runId: string, reason: string): Promise<CancelRequestOutcome> {
    // One statement: read the run (locked against a claim's epoch change meanwhile), keep the
    // request for its epoch when it is running.
    const answer = await this.query<{ requested: boolean }>(
      runId,
      `WITH run AS (SELECT status, epoch FROM ${this.schema}.runs WHERE run_id = $1 FOR SHARE),
       requested AS (
         INSERT INTO ${this.schema}.cancel_requests (run_id, epoch, reason)
         SELECT $1, epoch, $2 FROM run WHERE status = 'running'
         ON CONFLICT (run_id) DO UPDATE SET epoch = EXCLUDED.epoch, reason = EXCLUDED.reason
         RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM requested) AS requested FROM run`,
      [runId, String(reason)],
    ).catch((error: unknown) => {
      throw this.laterTableError(error, 'cancel_requests', 'SELECT, INSERT, UPDATE');
    });
    if (answer.rows.length === 0) return 'missing';
    return answer.rows[0].requested ? 'requested' : 'not-running';
  }

  async cancelRequested(runId: string, epoch: number): Promise<string | undefined> {
    try {
      const answer = await this.query<{ reason: string }>(runId, `SELECT reason FROM ${this.schema}.cancel_requests WHERE run_id = $1 AND epoch = $2`, [runId, epoch]);
      return answer.rows[0]?.reason;
    } catch (error) {
      // No table: nothing can have been requested.
      if ((error as { code?: unknown } | null)?.code === UNDEFINED_TABLE) return undefined;
      throw this.laterTableError(error, 'cancel_requests', 'SELECT');
    }
  }

  /** `error` as a FastroAIError naming the statement that creates `table`, when the table is missing or this role may not use it. */
  private laterTableError(error: unknown, table: string, grants: string): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== UNDEFINED_TABLE && code !== INSUFFICIENT_PRIVILEGE) return error;
    const ddl = createLaterTablesSqlOf(this.schema).find((statement) => statement.includes(`.${table} (`))!.replace(/\s+/g, ' ');
    return new FastroAIError(
      `PostgresRunStore ${this.name} cannot use its table ${table} (added in a later version than the one that created this schema): ${String((error as Error).message)}. ` +
        `Create it with a role that may (${ddl}) and grant ${grants} on it to the role this store connects as.`,
      { cause: error },
    );
  }

  async recordSteps(runId: string, epoch: number, records: StepRecord[]): Promise<RecordOutcome[]> {
    const columns: unknown[][] = Array.from({ length: 10 }, () => []);
    for (const record of records) {
      const row = [
        record.stepId, record.generation, record.status, record.output ?? null, JSON.stringify(record.usage),
        // Whole ms (BIGINT columns): a fractional time (a writer's own clock) is rounded, not refused.
        runColumnValue('error', record.error), record.attempts, Math.round(record.startedAt), Math.round(record.endedAt), record.workerId ?? null,
      ];
      row.forEach((value, index) => columns[index].push(value));
    }
    // The encoded columns (output, usage, error) go as one JSON array each, not as text[]: pg
    // escapes an array literal element by element, about 13× slower than JSON.stringify (1,000
    // outputs of 1 KB: 41 vs 3 ms, .scratch measurement), and their text is JSON already.
    const values = columns.map((column, index) => (JSON_COLUMNS.has(index) ? JSON.stringify(column) : column));
    const answer = await this.query<{ epoch: string; step_id: string | null; generation: number | null }>(runId, this.statements.recordSteps, [
      runId,
      epoch,
      ...values,
      ...(this.pushChannel === undefined ? [] : [this.pushChannel]),
    ]);
    if (answer.rows.length === 0) throw new RunNotFoundError(runId, this.name);
    if (Number(answer.rows[0].epoch) !== epoch) return records.map(() => 'stale-epoch');
    const written = new Set(answer.rows.filter((row) => row.step_id !== null).map((row) => `${row.generation}:${row.step_id}`));
    return records.map((record) => (written.delete(`${record.generation}:${record.stepId}`) ? 'recorded' : 'duplicate'));
  }

  async setRunStatus(runId: string, epoch: number, status: RunStatus, fields: Partial<RunRecord> = {}): Promise<void> {
    const values: unknown[] = [runId, epoch, status, this.now()];
    const assignments = ['status = $3', 'updated_at = $4'];
    for (const [field, value] of Object.entries(settableRunFieldsOf(fields))) {
      const column = SETTABLE_RUN_COLUMNS[field];
      if (column === undefined) continue;
      values.push(runColumnValue(field, value));
      assignments.push(`${column} = $${values.length}`);
    }
    const updated = await this.query(runId, `UPDATE ${this.schema}.runs SET ${assignments.join(', ')} WHERE run_id = $1 AND epoch = $2`, values);
    if (updated.rowCount === 1) return;
    const found = await this.query(runId, `SELECT 1 FROM ${this.schema}.runs WHERE run_id = $1`, [runId]);
    if (found.rows.length === 0) throw new RunNotFoundError(runId, this.name);
    throw new RunLeaseLostError(runId, epoch);
  }

  async addRunCost(runId: string, microcents: number): Promise<number> {
    if (!Number.isSafeInteger(microcents)) throw new FastroAIError(`Expected addRunCost microcents to be an integer, got ${String(microcents)}`);
    if (microcents !== 0) {
      // One id for every try of this charge (see perStepStatementsOf): added once.
      const now = Date.now();
      const prune = now >= this.nextChargePruneAt;
      if (prune) this.nextChargePruneAt = now + CHARGE_PRUNE_INTERVAL_MS;
      const statement = prune ? this.statements.addRunCostAndPrune : this.statements.addRunCost;
      const added = await this.query<{ cost_microcents: string }>(runId, statement, [runId, microcents, randomUUID()]);
      if (added.rows.length > 0) return Number(added.rows[0].cost_microcents);
      // Nothing added: no such run (the read says so), or a retry found its first try applied,
      // maybe after waiting for it to commit: a statement of its own reads the total with it.
    }
    // A read of the total (a worker's, on every step of a budgeted run): no row written.
    const total = await this.query<{ cost_microcents: string }>(runId, this.statements.readRunCost, [runId]);
    if (total.rows.length === 0) throw new RunNotFoundError(runId, this.name);
    return Number(total.rows[0].cost_microcents);
  }

  async getRun(runId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined> {
    const found = await this.query<RunRow>(runId, `SELECT * FROM ${this.schema}.runs WHERE run_id = $1`, [runId]);
    if (found.rows.length === 0) return undefined;
    return { run: runOfRow(found.rows[0]), steps: await this.stepsOf(runId) };
  }

  async getStepRecord(runId: string, stepId: string, generation: number): Promise<StepRecord | undefined> {
    const found = await this.query<StepRow>(runId, this.statements.getStepRecord, [runId, stepId, generation]);
    return found.rows.length === 0 ? undefined : stepOfRow(found.rows[0]);
  }

  /** @internal Many records of one run (`StepRecordsReader`): one query, one round trip. */
  async getStepRecords(runId: string, keys: readonly StepRecordKey[]): Promise<Array<StepRecord | undefined>> {
    if (keys.length === 0) return [];
    // One key (a chain's step, read by the caller and by a worker): the plain lookup by primary
    // key, cheaper than the join over `unnest` (.scratch measurement, same run: 690 → 500 µs).
    if (keys.length === 1) return [await this.getStepRecord(runId, keys[0].stepId, keys[0].generation)];
    const found = await this.query<StepRow>(runId, this.statements.getStepRecords, [
      runId,
      keys.map((key) => key.stepId),
      keys.map((key) => key.generation),
    ]);
    const byKey = new Map(found.rows.map((row) => [`${row.generation}:${row.step_id}`, row]));
    return keys.map((key) => {
      const row = byKey.get(`${key.generation}:${key.stepId}`);
      return row === undefined ? undefined : stepOfRow(row);
    });
  }

  async listRuns(query: RunListQuery = {}): Promise<RunListPage> {
    const limit = checkRunListQuery(query);
    const values: unknown[] = [];
    const conditions: string[] = [];
    if (query.pipeline !== undefined) {
      values.push(query.pipeline);
      conditions.push(`pipeline = $${values.length}`);
    }
    if (query.status !== undefined) {
      values.push(query.status);
      conditions.push(`status = $${values.length}`);
    }
    if (query.cursor !== undefined) {
      const after = decodeRunListCursor(query.cursor);
      values.push(after.createdAt, after.runId);
      conditions.push(`(created_at, run_id) < ($${values.length - 1}, $${values.length})`);
    }
    values.push(limit + 1);
    const found = await this.query<RunRow>(
      undefined,
      `SELECT * FROM ${this.schema}.runs ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY created_at DESC, run_id DESC LIMIT $${values.length}`,
      values,
    );
    const runs = found.rows.slice(0, limit).map(runOfRow);
    const last = runs[runs.length - 1];
    return found.rows.length > limit && last !== undefined ? { runs, cursor: encodeRunListCursor(last) } : { runs };
  }

  /** A connection for the push listener, outside the pool (with the pool's settings). */
  private async listeningClient(): Promise<Client> {
    const { Client: PgClient } = requireOptionalPeer<typeof import('pg')>('pg', '8', 'PostgresRunStore');
    const client = new PgClient(this.clientOptions);
    client.on('error', () => undefined); // reported by the listener's 'end'
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  /** Ends the pool if the store opened it (a pool you gave is left open), and the push listener's connection. */
  async close(): Promise<void> {
    await this.pushListener?.close();
    this.pushListener = undefined;
    await this.tablesReady?.catch(() => {});
    if (this.ownsPool) {
      if (!this.pool.ended) await this.pool.end();
    } else if (this.addedErrorListener) {
      this.pool.off('error', ignoreIdleClientError);
    }
  }

  private async stepsOf(runId: string): Promise<StepRecord[]> {
    const found = await this.query<StepRow>(runId, this.statements.stepsOf, [runId]);
    return found.rows.map(stepOfRow);
  }

  /** One statement, once the tables exist, with bounded retries; `onRetryResult` reads the result of a retry. */
  private async query<Row extends QueryResultRow = QueryResultRow>(
    runId: string | undefined,
    statement: string | PgStatement,
    values: unknown[],
    onRetryResult?: (result: QueryResult<Row>) => Promise<QueryResult<Row>>,
  ): Promise<QueryResult<Row>> {
    await this.ensureTables(runId);
    return retryTransient(this.retryPolicy, runId, async (attemptNumber) => {
      const result = await (typeof statement === 'string' ? this.pool.query<Row>(statement, values) : this.pool.query<Row>({ ...statement, values }));
      return attemptNumber > 1 && onRetryResult !== undefined ? onRetryResult(result) : result;
    });
  }

  /** True when the stored run is `run` as this store wrote it (owner, birth, graph): a retry found its own earlier write. */
  private async holdsCreatedRun(run: RunRecord): Promise<boolean> {
    const found = await this.pool.query<RunRow>(`SELECT owner, created_at, fingerprint FROM ${this.schema}.runs WHERE run_id = $1`, [run.runId]);
    const row = found.rows[0];
    return row !== undefined && row.owner === run.owner && Number(row.created_at) === run.createdAt && row.fingerprint === run.fingerprint;
  }

  private ensureTables(runId: string | undefined): Promise<void> {
    this.tablesReady ??= retryTransient(this.retryPolicy, runId, () => this.createTables()).catch((error: unknown) => {
      this.tablesReady = undefined;
      throw error;
    });
    return this.tablesReady;
  }

  private async createTables(): Promise<void> {
    const present = await this.presentRelations();
    if (STORE_RELATIONS.every((relation) => present.has(relation))) {
      // A schema an earlier version made: its later tables, if this role may create them.
      if (!LATER_RELATIONS.every((relation) => present.has(relation))) await this.runDdl(createLaterTablesSqlOf(this.schema)).catch(() => undefined);
      return;
    }
    await this.runDdl(createTablesSqlOf(this.schema));
  }

  /** Runs `statements` in one transaction, one store at a time (an advisory lock). */
  private async runDdl(statements: string[]): Promise<void> {
    const client: PoolClient = await this.pool.connect();
    let failure: unknown;
    try {
      await client.query('BEGIN');
      // CREATE … IF NOT EXISTS races with itself across sessions (a unique violation): one at a time.
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`fastroai:${this.name}`]);
      for (const statement of statements) await client.query(statement);
      await client.query('COMMIT');
    } catch (error) {
      failure = error;
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release(failure instanceof Error ? failure : undefined);
    }
  }

  /** Whether every table and index of the store is there already (a catalog read: no lock on the tables). */
  /** Which of the store's tables and indexes exist in its schema. */
  private async presentRelations(): Promise<Set<string>> {
    const found = await this.pool.query<{ relation: string }>(
      `SELECT relation FROM unnest($1::text[]) AS relation WHERE to_regclass($2 || '.' || relation) IS NOT NULL`,
      [[...STORE_RELATIONS, ...LATER_RELATIONS], this.schema],
    );
    return new Set(found.rows.map((row) => row.relation));
  }
}
