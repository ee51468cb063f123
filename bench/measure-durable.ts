import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySaver, type BaseCheckpointSaver } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import BetterSqlite3 from 'better-sqlite3';
import { MemoryRunStore, type Pipeline, type RunStore } from 'fastroai';
import { PostgresRunStore } from 'fastroai/postgres';
import { RedisRunStore } from 'fastroai/redis';
import { SqliteRunStore } from 'fastroai/sqlite';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { memoryBareWrites, openSqliteBareWrites, postgresBareWrites, redisBareWrites, type BareStepWrites } from './bare-step-writes';
import { sleep, type BenchStep } from './bench-step';
import { collectGarbage } from './collect-garbage';
import { countingStore } from './counting-store';
import { buildEnginePipeline } from './engine-adapter';
import { buildLangGraph } from './langgraph-adapter';
import { chainDag } from './random-dag';
import { median } from './sample-stats';
import type { StepRecord } from '../src/store/run-store';
import { deleteRedisKeys } from './delete-redis-keys';

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = { host: '127.0.0.1', port: 6379 };

/** Each step returns its index: a no-op with an output to record (a number, a few bytes). */
export const indexStep: BenchStep = (index) => index;

/** A fan-out of `width` steps: `s0`, then `width - 1` steps that depend on it alone. */
export function fanOutDag(width: number): number[][] {
  return Array.from({ length: width }, (_, index) => (index === 0 ? [] : [0]));
}

/** How many samples each part takes. */
export interface DurableSampling {
  /** Rounds of the store rows (every contender once per round, order rotating). */
  storeSamples: number;
  langGraphSamples: number;
  langGraphWarmupRuns: number;
  resumeSamples: number;
  warmupRuns: number;
}

/** One contender's time: median ms per run, and per-round ratios to a reference. */
export interface Timed {
  label: string;
  medianMs: number;
  /** Median over rounds of this ÷ the reference measured in the same round (when there is one). */
  ratio?: number;
  /** `recordSteps` calls per run (median), for contenders with a store. */
  recordCalls?: number;
  /** Stored bytes per step (one run), for contenders whose storage was measured. */
  bytesPerStep?: number;
}

/**
 * A contender: `run` does one run; `reference` names the contender its ratio is taken to;
 * `countRecordCalls` does one more run, untimed, through a proxy counting `recordSteps` calls
 * (timed runs go to the store directly: the proxy costs about as much as a memory write).
 */
interface Contender {
  label: string;
  run: () => Promise<unknown>;
  reference?: string;
  countRecordCalls?: () => Promise<number>;
  /**
   * Back-to-back runs a sample times (its time ÷ this): more than one for contenders that run in
   * memory in under a millisecond, so that a sample is not one scavenge's worth of noise (left
   * over, as often as not, by the store contender before it). @default 1
   */
  runsPerSample?: number;
}

/** Runs per sample of the contenders that do no I/O (no store, MemoryRunStore). */
const IN_MEMORY_RUNS_PER_SAMPLE = 20;

/**
 * Times the contenders in `rounds` rounds after `warmupRuns` untimed runs of each; every round
 * samples each once, in an order that rotates from round to round. One full GC first, none after.
 */
async function timeInRounds(contenders: Contender[], rounds: number, warmupRuns: number): Promise<Timed[]> {
  collectGarbage();
  for (let run = 0; run < warmupRuns; run++) for (const contender of contenders) await contender.run();
  const samples = contenders.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const which = (round + k) % contenders.length;
      const runs = contenders[which].runsPerSample ?? 1;
      const startMs = performance.now();
      for (let run = 0; run < runs; run++) await contenders[which].run();
      samples[which].push((performance.now() - startMs) / runs);
    }
  }
  const indexOf = new Map(contenders.map((contender, index) => [contender.label, index]));
  const timed: Timed[] = [];
  for (const [which, contender] of contenders.entries()) {
    const reference = contender.reference === undefined ? undefined : indexOf.get(contender.reference);
    timed.push({
      label: contender.label,
      medianMs: median(samples[which]),
      ratio: reference === undefined ? undefined : median(samples[which].map((ms, round) => ms / samples[reference][round])),
      recordCalls: contender.countRecordCalls === undefined ? undefined : await contender.countRecordCalls(),
    });
  }
  return timed;
}

/** The stores and bare writers of one bench, with what it takes to clean up after them. */
interface Backends {
  dir: string;
  memory: MemoryRunStore;
  memoryBare: BareStepWrites;
  sqlite: SqliteRunStore;
  redis: RedisRunStore;
  postgres: PostgresRunStore;
  sqliteBare: ReturnType<typeof openSqliteBareWrites>;
  redisBare: ReturnType<typeof redisBareWrites>;
  postgresBare: BareStepWrites;
  redisClient: Redis;
  pool: Pool;
  schema: string;
  prefix: string;
  /** Read-only views for byte counts. */
  sqliteReader: BetterSqlite3.Database;
}

async function openBackends(): Promise<Backends> {
  const dir = mkdtempSync(join(tmpdir(), 'fastroai-durable-bench-'));
  const schema = `fastroai_durable_bench_${process.pid}`;
  const prefix = `fastroai-durable-bench:${process.pid}:`;
  const pool = new Pool({ connectionString: POSTGRES_URL, max: 2 });
  pool.on('error', () => undefined);
  const postgres = new PostgresRunStore({ connectionString: POSTGRES_URL, schema });
  // The store creates its tables on first use; the floor's table is made like its steps table.
  await postgres.listRuns();
  await pool.query(`CREATE TABLE ${schema}.floor (LIKE ${schema}.steps INCLUDING ALL)`);
  const redisClient = new Redis(REDIS);
  const redisBare = redisBareWrites(redisClient, `${prefix}floor`);
  await redisBare.load();
  const sqlite = new SqliteRunStore({ path: join(dir, 'ours.db') });
  return {
    dir,
    memory: new MemoryRunStore(),
    memoryBare: memoryBareWrites(),
    sqlite,
    redis: new RedisRunStore({ connection: REDIS, prefix, warnIfNotDurable: false }),
    postgres,
    sqliteBare: openSqliteBareWrites(join(dir, 'bare.db')),
    redisBare,
    postgresBare: postgresBareWrites(pool, `${schema}.floor`),
    redisClient,
    pool,
    schema,
    prefix,
    sqliteReader: new BetterSqlite3(join(dir, 'ours.db'), { readonly: true }),
  };
}

async function closeBackends(backends: Backends): Promise<void> {
  backends.sqliteReader.close();
  backends.sqliteBare.close();
  await backends.sqlite.close();
  await backends.memory.close();
  await backends.memoryBare.close();
  await backends.redis.close();
  await backends.postgres.close();
  await backends.pool.query(`DROP SCHEMA IF EXISTS ${backends.schema} CASCADE`);
  await backends.pool.end();
  await deleteRedisKeys(backends.redisClient, backends.prefix);
  await backends.redisClient.quit();
  rmSync(backends.dir, { recursive: true, force: true });
}

/** Replays the engine's `recordSteps` batches as bare writes, each awaited as the engine awaits them. */
async function replayBare(writes: BareStepWrites, runId: string, batches: readonly StepRecord[][]): Promise<void> {
  for (const batch of batches) await (batch.length === 1 ? writes.writeOne(runId, batch[0]) : writes.writeBatch(runId, batch));
}

/** Rows 1–2 for one DAG: no store, MemoryRunStore, SQLite, Redis, PostgreSQL, and their floors. */
export interface StoreCaseResult {
  name: string;
  steps: number;
  timed: Timed[];
  /** Records per `recordSteps` call of the engine on this DAG (the floors write the same batches). */
  batchSizes: number[];
}

async function measureStoreCase(name: string, dependencies: number[][], backends: Backends, sampling: DurableSampling): Promise<StoreCaseResult> {
  const pipeline = buildEnginePipeline(dependencies, indexStep);
  // The records (and batches) the engine writes for this DAG: the floors write the same.
  const capture = countingStore(new MemoryRunStore(), { keepRecords: true });
  await pipeline.execute({}, undefined, { store: capture.store });
  const batches = capture.batches;
  let floorRun = 0;
  const stores: Array<[string, RunStore, BareStepWrites]> = [
    ['SQLite', backends.sqlite, backends.sqliteBare],
    ['Redis', backends.redis, backends.redisBare],
    ['PostgreSQL', backends.postgres, backends.postgresBare],
  ];
  const countRecordCalls = (store: RunStore) => async () => {
    const counter = countingStore(store);
    await pipeline.execute({}, undefined, { store: counter.store });
    return counter.recordCalls;
  };
  const contenders: Contender[] = [
    { label: 'no store', run: () => pipeline.execute({}), runsPerSample: IN_MEMORY_RUNS_PER_SAMPLE },
    {
      label: 'MemoryRunStore',
      run: () => pipeline.execute({}, undefined, { store: backends.memory }),
      reference: 'no store',
      countRecordCalls: countRecordCalls(backends.memory),
      runsPerSample: IN_MEMORY_RUNS_PER_SAMPLE,
    },
    { label: 'MemoryRunStore floor', run: () => replayBare(backends.memoryBare, `floor-${name}-${floorRun++}`, batches), runsPerSample: IN_MEMORY_RUNS_PER_SAMPLE },
  ];
  for (const [label, store, bare] of stores) {
    contenders.push({ label, run: () => pipeline.execute({}, undefined, { store }), reference: `${label} floor`, countRecordCalls: countRecordCalls(store) });
    contenders.push({ label: `${label} floor`, run: () => replayBare(bare, `floor-${name}-${floorRun++}`, batches) });
  }
  const timed = await timeInRounds(contenders, sampling.storeSamples, sampling.warmupRuns);
  return { name, steps: dependencies.length, timed, batchSizes: batches.map((batch) => batch.length) };
}

/** Row 3: fastroai with its stores against LangGraph.js with its checkpointers, on one DAG. */
export interface LangGraphCaseResult {
  name: string;
  steps: number;
  timed: Timed[];
  /** Bytes per step of each contender on a run half as long (chains only), to show the growth. */
  halfBytesPerStep?: Map<string, number>;
}

interface Savers {
  memorySaver: MemorySaver;
  sqliteSaver: SqliteSaver;
  sqliteSaverReader: BetterSqlite3.Database;
  postgresSaver: PostgresSaver;
  schema: string;
}

async function openSavers(backends: Backends): Promise<Savers> {
  const schema = `langgraph_bench_${process.pid}`;
  await backends.pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const postgresSaver = PostgresSaver.fromConnString(POSTGRES_URL, { schema });
  await postgresSaver.setup();
  const path = join(backends.dir, 'langgraph.db');
  const sqliteSaver = SqliteSaver.fromConnString(path);
  // Its tables are made on first use: a throwaway read makes them before the reader opens.
  await sqliteSaver.getTuple({ configurable: { thread_id: 'setup' } });
  return { memorySaver: new MemorySaver(), sqliteSaver, sqliteSaverReader: new BetterSqlite3(path, { readonly: true }), postgresSaver, schema };
}

async function closeSavers(savers: Savers, backends: Backends): Promise<void> {
  savers.sqliteSaverReader.close();
  await savers.postgresSaver.end();
  await backends.pool.query(`DROP SCHEMA IF EXISTS ${savers.schema} CASCADE`);
}

/** Sum of the bytes of every column of `table`'s rows where `column` = `id` (SQLite `length` of the value as a BLOB). */
function sqliteBytes(db: BetterSqlite3.Database, table: string, column: string, id: string): number {
  const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((info) => `coalesce(length(CAST(${info.name} AS BLOB)), 0)`);
  return (db.prepare(`SELECT coalesce(sum(${columns.join(' + ')}), 0) AS bytes FROM ${table} WHERE ${column} = ?`).get(id) as { bytes: number }).bytes;
}

/** Sum of `pg_column_size` of the rows of `table` where `column` = `id`. */
async function postgresBytes(pool: Pool, table: string, column: string, id: string): Promise<number> {
  const result = await pool.query<{ bytes: string | null }>(`SELECT sum(pg_column_size(t.*)) AS bytes FROM ${table} t WHERE ${column} = $1`, [id]);
  return Number(result.rows[0].bytes ?? 0);
}

/** Bytes of a MemoryRunStore run: its run and step records as JSON. */
async function memoryStoreBytes(store: RunStore, runId: string): Promise<number> {
  const stored = await store.getRun(runId);
  if (stored === undefined) throw new Error(`run ${runId} not stored`);
  return Buffer.byteLength(JSON.stringify(stored.run)) + stored.steps.reduce((sum, record) => sum + Buffer.byteLength(JSON.stringify(record)), 0);
}

/** Bytes of a MemorySaver thread: its serialized checkpoints, metadata and pending writes. */
function memorySaverBytes(saver: MemorySaver, threadId: string): number {
  let bytes = 0;
  for (const namespace of Object.values(saver.storage[threadId] ?? {})) {
    for (const [checkpoint, metadata] of Object.values(namespace)) bytes += checkpoint.byteLength + metadata.byteLength;
  }
  for (const [key, writes] of Object.entries(saver.writes)) {
    if (!key.includes(JSON.stringify(threadId))) continue;
    for (const [, , value] of Object.values(writes)) bytes += value.byteLength;
  }
  return bytes;
}

/** A contender of row 3 that can also run once under a known id and say how many bytes that run stored. */
interface MeasuredContender extends Contender {
  bytesOf(id: string): Promise<number>;
  runAs(id: string): Promise<unknown>;
}

function langGraphContenders(dependencies: number[][], backends: Backends, savers: Savers): MeasuredContender[] {
  const pipeline: Pipeline = buildEnginePipeline(dependencies, indexStep);
  const ours = (label: string, store: RunStore, bytesOf: (id: string) => Promise<number>): MeasuredContender => ({
    label,
    run: () => pipeline.execute({}, undefined, { store }),
    runAs: (id) => pipeline.execute({}, undefined, { store, runId: id }),
    bytesOf,
  });
  let thread = 0;
  const theirs = (label: string, saver: BaseCheckpointSaver, reference: string, bytesOf: (id: string) => Promise<number>): MeasuredContender => {
    const graph = buildLangGraph(dependencies, indexStep, { checkpointer: saver });
    return { label, run: () => graph.invoke({ threadId: `t${thread++}` }), runAs: (id) => graph.invoke({ threadId: id }), bytesOf, reference };
  };
  const { sqliteReader, pool, schema } = backends;
  return [
    ours('fastroai + MemoryRunStore', backends.memory, (id) => memoryStoreBytes(backends.memory, id)),
    ours('fastroai + SQLite', backends.sqlite, async (id) => sqliteBytes(sqliteReader, 'fastroai_runs', 'run_id', id) + sqliteBytes(sqliteReader, 'fastroai_steps', 'run_id', id)),
    ours('fastroai + PostgreSQL', backends.postgres, async (id) => (await postgresBytes(pool, `${schema}.runs`, 'run_id', id)) + (await postgresBytes(pool, `${schema}.steps`, 'run_id', id))),
    theirs('LangGraph.js + MemorySaver', savers.memorySaver, 'fastroai + MemoryRunStore', async (id) => memorySaverBytes(savers.memorySaver, id)),
    theirs('LangGraph.js + SqliteSaver', savers.sqliteSaver, 'fastroai + SQLite', async (id) =>
      sqliteBytes(savers.sqliteSaverReader, 'checkpoints', 'thread_id', id) + sqliteBytes(savers.sqliteSaverReader, 'writes', 'thread_id', id)),
    theirs('LangGraph.js + PostgresSaver', savers.postgresSaver, 'fastroai + PostgreSQL', async (id) => {
      let bytes = 0;
      for (const table of ['checkpoints', 'checkpoint_blobs', 'checkpoint_writes']) bytes += await postgresBytes(pool, `${savers.schema}.${table}`, 'thread_id', id);
      return bytes;
    }),
  ];
}

let measuredRun = 0;

async function bytesPerStepOf(contenders: MeasuredContender[], steps: number): Promise<Map<string, number>> {
  const bytes = new Map<string, number>();
  for (const contender of contenders) {
    const id = `bytes-${process.pid}-${measuredRun++}`;
    await contender.runAs(id);
    bytes.set(contender.label, (await contender.bytesOf(id)) / steps);
  }
  return bytes;
}

async function measureLangGraphCase(name: string, dependencies: number[][], backends: Backends, savers: Savers, sampling: DurableSampling, halfDependencies?: number[][]): Promise<LangGraphCaseResult> {
  const contenders = langGraphContenders(dependencies, backends, savers);
  const timed = await timeInRounds(contenders, sampling.langGraphSamples, sampling.langGraphWarmupRuns);
  const bytes = await bytesPerStepOf(contenders, dependencies.length);
  for (const entry of timed) entry.bytesPerStep = bytes.get(entry.label);
  const halfBytesPerStep = halfDependencies === undefined ? undefined : await bytesPerStepOf(langGraphContenders(halfDependencies, backends, savers), halfDependencies.length);
  return { name, steps: dependencies.length, timed, halfBytesPerStep };
}

/** Row 4: a 1,000-step chain crashed after 900 records, resumed, against the last 100 steps run fresh. */
export interface ResumeResult {
  store: string;
  steps: number;
  crashAfter: number;
  resumeMs: number;
  freshMs: number;
  /** Median over rounds of resume ÷ fresh. */
  ratio: number;
}

const CRASH_LEASE_SECONDS = 0.2;

async function measureResume(label: string, store: RunStore, sampling: DurableSampling, steps = 1_000, crashAfter = 900): Promise<ResumeResult> {
  const pipeline = buildEnginePipeline(chainDag(steps), indexStep);
  const tail = buildEnginePipeline(chainDag(steps - crashAfter), indexStep);
  let crashes = 0;
  /** Runs the chain until the store stops answering after `crashAfter` records; waits for its lease to lapse. */
  const crashedRunId = async (): Promise<string> => {
    const runId = `crash-${process.pid}-${crashes++}`;
    const dying = countingStore(store, { crashAfterRecords: crashAfter });
    // Abandoned: it never settles (its store froze), like a process that died.
    void pipeline.execute({}, undefined, { store: dying.store, runId, leaseSeconds: CRASH_LEASE_SECONDS }).catch(() => undefined);
    await dying.crashed;
    await sleep(CRASH_LEASE_SECONDS * 1000 + 50);
    return runId;
  };
  const resume = async (runId: string) => {
    const startMs = performance.now();
    const result = await pipeline.resume(runId, { store });
    const ms = performance.now() - startMs;
    if (result.output !== steps - 1) throw new Error(`resume ended with ${String(result.output)}`);
    return ms;
  };
  const fresh = async () => {
    const startMs = performance.now();
    await tail.execute({}, undefined, { store });
    return performance.now() - startMs;
  };
  for (let run = 0; run < sampling.warmupRuns; run++) {
    await resume(await crashedRunId());
    await fresh();
  }
  collectGarbage();
  const resumeMs: number[] = [];
  const freshMs: number[] = [];
  for (let round = 0; round < sampling.resumeSamples; round++) {
    const runId = await crashedRunId();
    if (round % 2 === 0) {
      resumeMs.push(await resume(runId));
      freshMs.push(await fresh());
    } else {
      freshMs.push(await fresh());
      resumeMs.push(await resume(runId));
    }
  }
  return {
    store: label,
    steps,
    crashAfter,
    resumeMs: median(resumeMs),
    freshMs: median(freshMs),
    ratio: median(resumeMs.map((ms, round) => ms / freshMs[round])),
  };
}

/** Everything the "Durable runs" table shows. */
export interface DurableResults {
  stores: StoreCaseResult[];
  langGraph: LangGraphCaseResult[];
  resumes: ResumeResult[];
  langGraphChainSteps: number;
}

/** Runs rows 1–4 against the local Redis and PostgreSQL, a temporary SQLite directory, and memory. */
export async function measureDurable(sampling: DurableSampling, progress: (message: string) => void): Promise<DurableResults> {
  const backends = await openBackends();
  try {
    const stores: StoreCaseResult[] = [];
    for (const [name, dag] of [['chain', chainDag(1_000)], ['fan-out', fanOutDag(1_000)]] as const) {
      progress(`durable: ${name}, 1,000 steps (no store, MemoryRunStore, SQLite, Redis, PostgreSQL, floors)`);
      stores.push(await measureStoreCase(name, dag, backends, sampling));
    }
    const langGraphChainSteps = 200;
    const savers = await openSavers(backends);
    const langGraph: LangGraphCaseResult[] = [];
    try {
      progress(`durable: LangGraph.js checkpointers, chain of ${langGraphChainSteps}`);
      langGraph.push(await measureLangGraphCase('chain', chainDag(langGraphChainSteps), backends, savers, sampling, chainDag(langGraphChainSteps / 2)));
      progress('durable: LangGraph.js checkpointers, fan-out of 1,000');
      langGraph.push(await measureLangGraphCase('fan-out', fanOutDag(1_000), backends, savers, sampling));
    } finally {
      await closeSavers(savers, backends);
    }
    progress('durable: resume after a crash at step 900 (MemoryRunStore, SQLite)');
    const resumes = [await measureResume('MemoryRunStore', backends.memory, sampling), await measureResume('SQLite', backends.sqlite, sampling)];
    return { stores, langGraph, resumes, langGraphChainSteps };
  } finally {
    await closeBackends(backends);
  }
}
