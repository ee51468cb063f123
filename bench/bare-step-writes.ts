import { createHash } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import type { Redis } from 'ioredis';
import type { Pool, QueryConfig } from 'pg';
import { namedStatementOf } from '../src/postgres/named-statement';
import { rowOfStep } from '../src/sqlite/sqlite-rows';
import { SQLITE_SCHEMA } from '../src/sqlite/sqlite-schema';
import type { StepRecord } from '../src/store/run-store';

/**
 * The floor of a store: step records written with the driver alone, no store code around it.
 * `writeOne` is one write of one record (a chain's step); `writeBatch` is one write of many
 * (a fan-out's group commit).
 */
export interface BareStepWrites {
  writeOne(runId: string, record: StepRecord): unknown;
  writeBatch(runId: string, records: readonly StepRecord[]): unknown;
  close(): Promise<void> | void;
}

const STEP_COLUMNS = 'run_id, step_id, generation, status, output, usage, error, attempts, started_at, ended_at, worker_id';

/**
 * Bare better-sqlite3 inserts into a table shaped as `SqliteRunStore`'s, under its pragmas (WAL,
 * `synchronous = NORMAL`): one autocommitted `INSERT … ON CONFLICT DO NOTHING` per record, or
 * one transaction of them per batch.
 */
export function openSqliteBareWrites(path: string): BareStepWrites & { db: BetterSqlite3.Database } {
  const db = new BetterSqlite3(path);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SQLITE_SCHEMA);
  const insert = db.prepare(
    `INSERT INTO fastroai_steps (${STEP_COLUMNS})
     VALUES (@run_id, @step_id, @generation, @status, @output, @usage, @error, @attempts, @started_at, @ended_at, @worker_id)
     ON CONFLICT (run_id, step_id, generation) DO NOTHING`,
  );
  const insertAll = db.transaction((runId: string, records: readonly StepRecord[]) => {
    for (const record of records) insert.run(rowOfStep(runId, record));
  });
  return {
    db,
    writeOne: (runId, record) => insert.run(rowOfStep(runId, record)),
    writeBatch: (runId, records) => insertAll(runId, records),
    close: () => {
      db.close();
    },
  };
}

/** The Lua of the Redis floor: an HSET per (field, JSON) pair of ARGV, into KEYS[1]. */
const REDIS_FLOOR_SCRIPT = `for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end return 1`;

/**
 * Bare in-memory writes: the record kept in a Map of its run (every run kept, as a
 * MemoryRunStore keeps them), by an async function the caller awaits: one call per record, or
 * one per batch. What an awaited in-memory store costs at the least.
 */
export function memoryBareWrites(): BareStepWrites {
  const runs = new Map<string, Map<string, StepRecord>>();
  const ofRun = (runId: string) => {
    let records = runs.get(runId);
    if (records === undefined) runs.set(runId, (records = new Map()));
    return records;
  };
  return {
    writeOne: async (runId, record) => {
      ofRun(runId).set(record.stepId, record);
    },
    writeBatch: async (runId, records) => {
      const kept = ofRun(runId);
      for (const record of records) kept.set(record.stepId, record);
    },
    close: () => runs.clear(),
  };
}

/**
 * Bare Redis writes: one EVALSHA of a script that HSETs the record's JSON into one hash under
 * `key` (field `generation:stepId`); a batch is one EVALSHA of all its HSETs. Run ids are kept
 * apart by suffixing `key`. Call `load()` once first.
 */
export function redisBareWrites(redis: Redis, key: string): BareStepWrites & { load(): Promise<unknown> } {
  const sha = createHash('sha1').update(REDIS_FLOOR_SCRIPT).digest('hex');
  const argsOf = (record: StepRecord) => [`${record.generation}:${record.stepId}`, JSON.stringify(record)];
  return {
    load: () => redis.script('LOAD', REDIS_FLOOR_SCRIPT),
    writeOne: (runId, record) => redis.evalsha(sha, 1, `${key}:${runId}`, ...argsOf(record)),
    writeBatch: (runId, records) => redis.evalsha(sha, 1, `${key}:${runId}`, ...records.flatMap(argsOf)),
    close: () => undefined,
  };
}

/**
 * Bare PostgreSQL writes into `table` (created `LIKE` the store's steps table by the caller):
 * one `INSERT … ON CONFLICT DO NOTHING` per record, or one multi-row INSERT per batch, each a
 * named prepared statement (parsed and planned once per connection), as the store's own writes
 * are, and as the SQLite floor's prepared statement and the Redis floor's EVALSHA are.
 */
export function postgresBareWrites(pool: Pool, table: string): BareStepWrites {
  const valuesOf = (runId: string, record: StepRecord): unknown[] => [
    runId, record.stepId, record.generation, record.status, record.output ?? null, JSON.stringify(record.usage),
    record.error === undefined ? null : JSON.stringify(record.error), record.attempts, record.startedAt, record.endedAt, null,
  ];
  const insertOf = (runId: string, records: readonly StepRecord[]): QueryConfig => {
    const values: unknown[] = [];
    const tuples = records.map((record) => `(${valuesOf(runId, record).map((value) => `$${values.push(value)}`).join(', ')})`);
    return { ...namedStatementOf(`INSERT INTO ${table} (${STEP_COLUMNS}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`), values };
  };
  return {
    writeOne: (runId, record) => pool.query(insertOf(runId, [record])),
    writeBatch: (runId, records) => pool.query(insertOf(runId, records)),
    close: () => undefined,
  };
}
