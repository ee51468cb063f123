import { FastroAIError } from '../errors/fastroai-error';

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * The schema name, double-quoted for SQL.
 * @throws FastroAIError when it is not a plain identifier (letters, digits, `_`; at most 63)
 */
export function quotedSchemaOf(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new FastroAIError(`Expected PostgresRunStore schema to be a plain identifier (letters, digits, _; at most 63), got '${schema}'`);
  }
  return `"${schema}"`;
}

/**
 * The tables and indexes every store needs, which {@link createTablesSqlOf} creates: when all of
 * them exist, a store skips that DDL, as `CREATE INDEX IF NOT EXISTS` locks its table (SHARE)
 * even when the index exists, so a store opened mid-run (a new worker) would wait behind the
 * writes in flight and hold up the next ones.
 */
export const STORE_RELATIONS: readonly string[] = [
  'runs', 'runs_newest_first', 'runs_by_pipeline', 'runs_by_status', 'runs_by_pipeline_status', 'steps', 'steps_in_order', 'charges', 'charges_by_time',
];

/**
 * Tables added after the first release ({@link createLaterTablesSqlOf}): a store whose schema
 * has the {@link STORE_RELATIONS} but not these tries to create them on their own, and opens
 * all the same when it may not (an application role without CREATE): only the methods that
 * need them fail then, saying which table to create.
 */
export const LATER_RELATIONS: readonly string[] = ['cancel_requests'];

/** The statements that create the {@link LATER_RELATIONS} in `schema` (quoted), each idempotent. */
export function createLaterTablesSqlOf(schema: string): string[] {
  return [
    // The cancellation last asked of each run (`requestCancel`), for the epoch that ran then.
    `CREATE TABLE IF NOT EXISTS ${schema}.cancel_requests (
      run_id TEXT COLLATE "C" PRIMARY KEY REFERENCES ${schema}.runs (run_id) ON DELETE CASCADE,
      epoch BIGINT NOT NULL,
      reason TEXT NOT NULL
    )`,
  ];
}

/**
 * The statements that create the store's tables in `schema` (quoted), each idempotent.
 * Encoded values are TEXT (the codec's JSON, byte for byte); times (epoch ms) and money
 * (microcents) are BIGINT. `run_id` sorts bytewise (`COLLATE "C"`), as `listRuns` orders ties.
 * `steps.seq` keeps the order records were written in; `charges` holds the charges of the last
 * 10 minutes (see `addRunCost`); `cancel_requests` the cancellation last asked of a run.
 */
export function createTablesSqlOf(schema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    `CREATE TABLE IF NOT EXISTS ${schema}.runs (
      run_id TEXT COLLATE "C" PRIMARY KEY,
      pipeline TEXT NOT NULL,
      fingerprint TEXT NOT NULL,
      input TEXT NOT NULL,
      status TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      cost_microcents BIGINT NOT NULL,
      owner TEXT NOT NULL,
      epoch BIGINT NOT NULL,
      lease_until BIGINT NOT NULL,
      error TEXT,
      conversation_state TEXT
    )`,
    `CREATE INDEX IF NOT EXISTS runs_newest_first ON ${schema}.runs (created_at DESC, run_id DESC)`,
    `CREATE INDEX IF NOT EXISTS runs_by_pipeline ON ${schema}.runs (pipeline, created_at DESC, run_id DESC)`,
    `CREATE INDEX IF NOT EXISTS runs_by_status ON ${schema}.runs (status, created_at DESC, run_id DESC)`,
    // Both filters of the inspector's list at once: without it PostgreSQL reads every run of the
    // pipeline (or of the status) to find a page (bench/inspector-list.ts, 10,000 runs,
    // pipeline + status: 8.8 → 1.5 ms a page).
    `CREATE INDEX IF NOT EXISTS runs_by_pipeline_status ON ${schema}.runs (pipeline, status, created_at DESC, run_id DESC)`,
    `CREATE TABLE IF NOT EXISTS ${schema}.steps (
      seq BIGINT GENERATED ALWAYS AS IDENTITY,
      run_id TEXT COLLATE "C" NOT NULL REFERENCES ${schema}.runs (run_id) ON DELETE CASCADE,
      step_id TEXT NOT NULL,
      generation INTEGER NOT NULL,
      status TEXT NOT NULL,
      output TEXT,
      usage TEXT NOT NULL,
      error TEXT,
      attempts INTEGER NOT NULL,
      started_at BIGINT NOT NULL,
      ended_at BIGINT NOT NULL,
      worker_id TEXT,
      PRIMARY KEY (run_id, step_id, generation)
    )`,
    `CREATE INDEX IF NOT EXISTS steps_in_order ON ${schema}.steps (run_id, seq)`,
    // The charges `addRunCost` applied lately (10 minutes), by the id its tries share: a retry
    // whose first try committed adds nothing.
    `CREATE TABLE IF NOT EXISTS ${schema}.charges (
      run_id TEXT COLLATE "C" NOT NULL,
      charge_id TEXT NOT NULL,
      charged_at BIGINT NOT NULL,
      PRIMARY KEY (run_id, charge_id)
    )`,
    // What `addRunCost` deletes once a minute: the rows past 10 minutes, found without a scan.
    `CREATE INDEX IF NOT EXISTS charges_by_time ON ${schema}.charges (charged_at)`,
    ...createLaterTablesSqlOf(schema),
  ];
}
