import { CHARGE_KEPT_MS } from '../store/charge-kept-ms';
import { namedStatementOf, type PgStatement } from './named-statement';

/**
 * The most bytes of record JSON one push of `recordSteps` carries (a NOTIFY payload must stay
 * under 8,000 bytes; the run id and the wrapper take the rest).
 */
export const PUSH_MAX_BYTES = 7_800;

/** The records of a batch that `recordSteps` builds a push of at most (a NOTIFY holds about 20 small ones; a wide fan-out's batch would build them all for nothing). */
const PUSHED_RECORDS_CONSIDERED = 32;

/** The columns of a step record, as `stepOfRow` reads them. */
const STEP_COLUMNS = 'step_id, generation, status, output, usage, error, attempts, started_at, ended_at, worker_id';

/** The statements of {@link PostgresRunStore} that a run sends per step or per lease tick. */
export interface PerStepStatements {
  recordSteps: PgStatement;
  getStepRecord: PgStatement;
  getStepRecords: PgStatement;
  stepsOf: PgStatement;
  renewLease: PgStatement;
  addRunCost: PgStatement;
  addRunCostAndPrune: PgStatement;
  readRunCost: PgStatement;
}

/**
 * The statements a run sends per step (records, reads of records, lease renewals, cost), on the
 * tables of `schema` (quoted), named when `prepared`: parsing and planning `recordSteps`' CTE
 * was about half of its time (one record a call, named vs unnamed in the same run: 1.3 → 0.7 ms;
 * the durable 1,000-step chain of `npm run bench`, which pays it once per step: 1.9 → 1.4 ms a
 * step). Each lists its columns: a `*` in a prepared statement fails once a column is added
 * ("cached plan must not change result type").
 */
export function perStepStatementsOf(schema: string, prepared: boolean, pushRecords = false): PerStepStatements {
  const named = (text: string) => namedStatementOf(text.replace(/\s+/g, ' ').trim(), prepared);
  /** The batch's insert, fenced by the run's epoch (`run`, `written` returning `returning`), as the first CTEs of `recordSteps`. */
  const insertBatch = (returning: string) => `WITH run AS (SELECT epoch FROM ${schema}.runs WHERE run_id = $1 FOR SHARE),
       written AS (
         INSERT INTO ${schema}.steps (run_id, ${STEP_COLUMNS})
         SELECT $1, r.step_id, r.generation, r.status, r.output, r.usage, r.error, r.attempts, r.started_at, r.ended_at, r.worker_id
         FROM ROWS FROM (
           unnest($3::text[]), unnest($4::int[]), unnest($5::text[]),
           json_array_elements_text($6::json), json_array_elements_text($7::json), json_array_elements_text($8::json),
           unnest($9::int[]), unnest($10::bigint[]), unnest($11::bigint[]), unnest($12::text[])
         ) WITH ORDINALITY AS r(step_id, generation, status, output, usage, error, attempts, started_at, ended_at, worker_id, ord)
         WHERE (SELECT epoch FROM run) = $2
         ORDER BY r.ord
         ON CONFLICT DO NOTHING
         RETURNING ${returning}
       )`;
  return {
    // One statement: lock the run's row, check the epoch, insert the batch (first writer wins), in order.
    // The fence (API.md §12: a record of a stale epoch is never accepted once a claim committed):
    // FOR SHARE on the run's row conflicts with the lock of claimRun's UPDATE (FOR NO KEY UPDATE).
    // A claim that locked the row first makes this statement wait, then read the row's newest
    // version (READ COMMITTED re-reads a locked row that changed), whose epoch is new: nothing is
    // written. A claim that comes second waits until this transaction has committed, so what it
    // wrote is committed before the claim is, and the claim's read of the steps sees it. FOR KEY
    // SHARE would not fence: it does not conflict with an UPDATE of non-key columns, so a claim
    // could commit between this statement's read of the epoch and its commit. FOR UPDATE fences
    // too, but also makes the writers of one run (several workers) wait for each other's commits;
    // FOR SHARE lets them commit together (.scratch measurement, 4 writers on one run, same run:
    // 2.7 → 1.6 ms a record). Proved by tests/postgres/postgres-run-store.test.ts ("fencing").
    //
    // With `pushRecords`, then `pushed`: the records written (the first writers) go to the store's
    // listeners at commit (NOTIFY on channel $13, see RecordPusher), as the JSON a reader gets, in
    // the order written, as many as fit in one NOTIFY (PUSH_MAX_BYTES). Joined to the answer, so
    // that it runs. A NOTIFY makes commits wait for each other server-wide: see the option.
    recordSteps: named(
      pushRecords
        ? `${insertBatch(`${STEP_COLUMNS}, seq`)},
       pushed AS (
         SELECT pg_notify($13, '{"runId":' || to_json($1::text)::text || ',"records":[' || string_agg(p.record, ',' ORDER BY p.seq) || ']}')
         FROM (
           SELECT r.record, r.seq, sum(octet_length(r.record)) OVER (ORDER BY r.seq) AS upto
           FROM (
             SELECT json_strip_nulls(json_build_object(
               'stepId', step_id, 'generation', generation, 'status', status, 'output', output, 'usage', usage::json,
               'error', error::json, 'attempts', attempts, 'startedAt', started_at, 'endedAt', ended_at, 'workerId', worker_id
             ))::text AS record, seq
             FROM (SELECT * FROM written ORDER BY seq LIMIT ${PUSHED_RECORDS_CONSIDERED}) w
           ) r
           WHERE octet_length(r.record) <= ${PUSH_MAX_BYTES} - octet_length(to_json($1::text)::text)
         ) p
         WHERE p.upto <= ${PUSH_MAX_BYTES} - octet_length(to_json($1::text)::text)
         HAVING count(*) > 0
       )
       SELECT run.epoch, written.step_id, written.generation FROM run LEFT JOIN written ON true LEFT JOIN pushed ON true`
        : `${insertBatch('step_id, generation')}
       SELECT run.epoch, written.step_id, written.generation FROM run LEFT JOIN written ON true`,
    ),
    getStepRecord: named(`SELECT ${STEP_COLUMNS} FROM ${schema}.steps WHERE run_id = $1 AND step_id = $2 AND generation = $3`),
    getStepRecords: named(
      `SELECT ${STEP_COLUMNS.replace(/(\w+)/g, 's.$1')}
       FROM unnest($2::text[], $3::int[]) AS k(step_id, generation)
       JOIN ${schema}.steps s ON s.run_id = $1 AND s.step_id = k.step_id AND s.generation = k.generation`,
    ),
    stepsOf: named(`SELECT ${STEP_COLUMNS} FROM ${schema}.steps WHERE run_id = $1 ORDER BY seq`),
    renewLease: named(`UPDATE ${schema}.runs SET lease_until = $4 WHERE run_id = $1 AND owner = $2 AND epoch = $3`),
    // One charge ($3, a charge id the store's retries of the call share) is added once: its row
    // in `charges` goes in first, and only a charge whose row went in adds to the total. A retry
    // whose first try committed (its answer lost) finds the row, adds nothing and answers no row.
    addRunCost: named(addRunCostSql(schema, false)),
    // The same, also deleting the charges past CHARGE_KEPT_MS: sent at most once a minute.
    addRunCostAndPrune: named(addRunCostSql(schema, true)),
    readRunCost: named(`SELECT cost_microcents FROM ${schema}.runs WHERE run_id = $1`),
  };
}

/** The server's clock in epoch ms: charges are timed by it, so that processes' clocks cannot disagree about their age. */
const SERVER_NOW_MS = '(extract(epoch FROM statement_timestamp()) * 1000)::bigint';

/**
 * `addRunCost`'s statement: the charge's row, then the total after adding, in one statement.
 * Answers no row when nothing was added: the run does not exist, or the charge was applied
 * already. With `prune`, the charges older than CHARGE_KEPT_MS go too.
 */
function addRunCostSql(schema: string, prune: boolean): string {
  return `WITH run AS (SELECT 1 FROM ${schema}.runs WHERE run_id = $1),
    charged AS (
      INSERT INTO ${schema}.charges (run_id, charge_id, charged_at) SELECT $1, $3, ${SERVER_NOW_MS} FROM run
      ON CONFLICT DO NOTHING RETURNING 1
    ),
    added AS (
      UPDATE ${schema}.runs SET cost_microcents = cost_microcents + $2
      WHERE run_id = $1 AND EXISTS (SELECT 1 FROM charged) RETURNING cost_microcents
    )${prune ? `,
    pruned AS (DELETE FROM ${schema}.charges WHERE charged_at < ${SERVER_NOW_MS} - ${CHARGE_KEPT_MS})` : ''}
    SELECT cost_microcents FROM added`;
}
