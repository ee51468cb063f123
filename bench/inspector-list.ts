/**
 * The run inspector's list with 10,000 runs in the store (issue 11: "the list page is served in
 * ≤ 200 ms"). Seeds 10,000 runs into each store — a SQLite file, a unique Redis key prefix, a
 * unique PostgreSQL schema — then times `listRuns({ limit: 50 })`, filtered pages, page 2 through
 * the cursor, and the list page itself over HTTP (`serveInspector` on the same store). Everything
 * it made is removed after. Needs the local Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, `test`).
 *
 *   npx ts-node -T -r tsconfig-paths/register bench/inspector-list.ts [--runs 10000] [--only sqlite,redis,postgres]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { serveInspector } from '../src/inspector/index';
import { PostgresRunStore } from '../src/postgres';
import { RedisRunStore } from '../src/redis';
import { SqliteRunStore } from '../src/sqlite';
import { encodeValue } from '../src/store/encode-value';
import type { RunListQuery, RunRecord, RunStatus, RunStore } from '../src/store/run-store';
import { formatNumber, formatTable } from './format-table';
import { median, quantile } from './sample-stats';
import { deleteRedisKeys } from './delete-redis-keys';

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = { host: '127.0.0.1', port: 6379 };

/** Five pipelines; statuses as a busy service has them (most completed, a few of each other). */
const PIPELINES = ['document_processor', 'booking', 'support_triage', 'invoice_check', 'research'];
const STATUS_EVERY: Array<[RunStatus, number]> = [
  ['running', 200],
  ['stopped', 25],
  ['aborted', 40],
  ['failed', 10],
];

function statusOf(index: number): RunStatus {
  for (const [status, every] of STATUS_EVERY) if (index % every === 0) return status;
  return 'completed';
}

const INPUT = encodeValue({
  document: 'INVOICE #INV-2024-0042 From: Northwind Components GmbH Bill to: Acme Robotics Ltd (customer ID: CUST-1042)',
  receivedAt: new Date(1_700_000_000_000),
  tags: ['email', 'priority'],
});

/** The `index`-th seeded run: one a minute back from now, pipelines and statuses mixed. */
export function seededRun(index: number, nowMs: number): RunRecord {
  const createdAt = nowMs - index * 60_000;
  const status = statusOf(index);
  return {
    runId: `run-${String(index).padStart(6, '0')}-${randomUUID().slice(0, 8)}`,
    pipeline: PIPELINES[index % PIPELINES.length],
    fingerprint: 'fp',
    input: INPUT,
    status,
    createdAt,
    updatedAt: createdAt + 4_000,
    costMicrocents: 400 + (index % 97),
    owner: 'bench:1:seed',
    epoch: 1,
    leaseUntil: createdAt + 30_000,
    ...(status === 'failed' ? { error: { name: 'StepExecutionError', code: 'fastroai:step-execution', message: 'Step fetch_market failed' } } : {}),
  };
}

/** A store to measure: how to open it, and how to remove what it left. */
export interface ListBenchStore {
  name: string;
  open(): RunStore;
  cleanup(): Promise<void>;
}

/** The three stores of the issue, each fresh (a temp file, a unique prefix, a unique schema). */
export function listBenchStores(): ListBenchStore[] {
  const dir = mkdtempSync(join(tmpdir(), 'fastroai-list-bench-'));
  const prefix = `fastroai-list-bench-${randomUUID()}:`;
  const schema = `fastroai_list_bench_${randomUUID().replace(/-/g, '')}`;
  return [
    { name: 'SqliteRunStore', open: () => new SqliteRunStore({ path: join(dir, 'runs.db') }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) },
    {
      name: 'RedisRunStore',
      open: () => new RedisRunStore({ connection: REDIS, prefix, warnIfNotDurable: false }),
      cleanup: async () => {
        const admin = new Redis(REDIS);
        await deleteRedisKeys(admin, prefix);
        await admin.quit();
      },
    },
    {
      name: 'PostgresRunStore',
      open: () => new PostgresRunStore({ connectionString: POSTGRES_URL, schema }),
      cleanup: async () => {
        const client = new Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    },
  ];
}

/** Writes `count` runs through the store's own `createRun`, `concurrency` at a time. */
export async function seedRuns(store: RunStore, count: number, concurrency = 32): Promise<void> {
  const nowMs = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < count) await store.createRun(seededRun(next++, nowMs));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** One measured query: its median and p95 over the samples, in ms, and how many runs it answered. */
export interface ListTiming {
  query: string;
  medianMs: number;
  p95Ms: number;
  runs: number;
}

async function timeQuery(label: string, samples: number, work: () => Promise<number>): Promise<ListTiming> {
  const times: number[] = [];
  let runs = 0;
  await work(); // warm: prepared statements, scripts, connections
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    runs = await work();
    times.push(performance.now() - started);
  }
  return { query: label, medianMs: median(times), p95Ms: quantile(times, 0.95), runs };
}

/** The queries the list page makes (first page, filters, page 2), and the page itself over HTTP. */
export async function measureListQueries(store: RunStore, samples = 30): Promise<ListTiming[]> {
  const list = (query: RunListQuery) => async () => (await store.listRuns(query)).runs.length;
  const firstPage = await store.listRuns({ limit: 50 });
  const filtered = await store.listRuns({ limit: 50, pipeline: 'booking', status: 'completed' });
  const timings = [
    await timeQuery('listRuns({ limit: 50 })', samples, list({ limit: 50 })),
    await timeQuery("… pipeline: 'booking'", samples, list({ limit: 50, pipeline: 'booking' })),
    await timeQuery("… status: 'failed' (1 in 10)", samples, list({ limit: 50, status: 'failed' })),
    await timeQuery("… status: 'running' (1 in 200)", samples, list({ limit: 50, status: 'running' })),
    await timeQuery("… pipeline: 'booking', status: 'completed'", samples, list({ limit: 50, pipeline: 'booking', status: 'completed' })),
    // No booking run is running (every 200th run is a document_processor one): the worst case, a filter nothing matches.
    await timeQuery("… pipeline: 'booking', status: 'running' (none)", samples, list({ limit: 50, pipeline: 'booking', status: 'running' })),
    await timeQuery('page 2 (cursor)', samples, list({ limit: 50, cursor: firstPage.cursor })),
    await timeQuery('page 2 (cursor), filtered', samples, list({ limit: 50, pipeline: 'booking', status: 'completed', cursor: filtered.cursor })),
  ];
  const inspector = await serveInspector({ store, port: 0 });
  try {
    timings.push(
      await timeQuery('GET the list page (serveInspector, HTTP)', samples, async () => {
        const response = await fetch(inspector.url);
        const html = await response.text();
        if (response.status !== 200) throw new Error(`the list page answered ${response.status}`);
        return html.length;
      }),
    );
  } finally {
    await inspector.close();
  }
  return timings;
}

/** Seeds each store, measures it, removes what it made; one table row per store and query. */
export async function measureInspectorList(options: { runs?: number; only?: string[]; log?: (line: string) => void } = {}): Promise<string[][]> {
  const runs = options.runs ?? 10_000;
  const log = options.log ?? (() => undefined);
  const rows: string[][] = [];
  for (const spec of listBenchStores()) {
    if (options.only !== undefined && !options.only.some((name) => spec.name.toLowerCase().startsWith(name))) {
      await spec.cleanup();
      continue;
    }
    const store = spec.open();
    try {
      const seededAt = performance.now();
      await seedRuns(store, runs);
      log(`${spec.name}: seeded ${runs} runs in ${((performance.now() - seededAt) / 1000).toFixed(1)} s`);
      for (const timing of await measureListQueries(store)) {
        rows.push([spec.name, timing.query, String(timing.runs), formatNumber(timing.medianMs), formatNumber(timing.p95Ms)]);
      }
    } finally {
      await store.close();
      await spec.cleanup();
    }
  }
  return rows;
}

export const INSPECTOR_LIST_HEADER = ['store (10,000 runs)', 'query', 'runs (bytes for HTTP)', 'median ms', 'p95 ms'];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsArg = args.indexOf('--runs');
  const onlyArg = args.indexOf('--only');
  const rows = await measureInspectorList({
    runs: runsArg < 0 ? undefined : Number(args[runsArg + 1]),
    only: onlyArg < 0 ? undefined : args[onlyArg + 1].split(','),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(formatTable(INSPECTOR_LIST_HEADER, rows, [false, false, true, true, true]));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
