/**
 * Micro-benchmark (not a test): µs per `recordSteps` of one ~1 KB step record on the Redis and
 * PostgreSQL run stores, against the floor of the same write without the store (a bare EVALSHA
 * of an HSET; a bare `INSERT … ON CONFLICT DO NOTHING` of the same row), and per record in a
 * batch of 1,000. Needs the local Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, `test`).
 * Run: `npx ts-node -T -r tsconfig-paths/register bench/server-store-floor.ts`.
 */
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { PostgresRunStore } from '../src/postgres';
import { RedisRunStore } from '../src/redis';
import { encodeValue } from '../src/store/encode-value';
import type { RunRecord, StepRecord } from '../src/store/run-store';
import { postgresBareWrites, redisBareWrites } from './bare-step-writes';
import { deleteRedisKeys } from './delete-redis-keys';

const ITERATIONS = { redis: 2_000, postgres: 500 };
const BATCH = 1_000;
const BATCH_ROUNDS = 5;

const output = encodeValue({
  customer: { name: 'Ann Example', email: 'ann@example.com', phone: '+1 555 0100', vip: true },
  entities: Array.from({ length: 13 }, (_, index) => ({ id: index, kind: 'person', text: `entity number ${index}`, score: index / 10 })),
  summary: 'A booking request for two nights in the spring, with breakfast and a late checkout.',
  tags: ['booking', 'hotel', 'spring', 'breakfast'],
});

function recordOf(stepId: string): StepRecord {
  return {
    stepId, generation: 1, status: 'completed', output, attempts: 1, startedAt: Date.now(), endedAt: Date.now(),
    usage: {
      inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, inputAudioTokens: 0, outputAudioTokens: 0,
      cacheAudioReadTokens: 0, requestCount: 1, toolCallCount: 0, costMicrocents: 1234, processingTimeMs: 7, model: 'gpt-4o',
    },
  };
}

function runOf(runId: string): RunRecord {
  const now = Date.now();
  return { runId, pipeline: 'bench', fingerprint: 'fp', input: '{}', status: 'running', createdAt: now, updatedAt: now, costMicrocents: 0, owner: 'bench', epoch: 1, leaseUntil: now + 60_000 };
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function microsOf(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1000;
}

/**
 * Median µs per call of `ours(i)` and of `floor(i)`, called `iterations` times each, one after
 * another and alternating (so that both see the same load on a shared machine), after a warm-up.
 */
async function microsPerCall(iterations: number, ours: (index: number) => Promise<unknown>, floor: (index: number) => Promise<unknown>): Promise<[number, number]> {
  for (let index = 0; index < iterations / 10; index++) {
    await ours(-1 - index);
    await floor(-1 - index);
  }
  const oursSamples: number[] = [];
  const floorSamples: number[] = [];
  for (let index = 0; index < iterations; index++) {
    oursSamples.push(await microsOf(() => ours(index)));
    floorSamples.push(await microsOf(() => floor(index)));
  }
  return [median(oursSamples), median(floorSamples)];
}

const rows: [string, number, number][] = [];

async function benchRedis(): Promise<void> {
  const prefix = `fastroai-bench:${process.pid}:`;
  const redis = new Redis({ host: '127.0.0.1', port: 6379 });
  const store = new RedisRunStore({ connection: { host: '127.0.0.1', port: 6379 }, prefix, warnIfNotDurable: false });
  const bare = redisBareWrites(redis, `${prefix}floor`);
  await bare.load();
  await store.createRun(runOf('one'));
  for (let round = 0; round < BATCH_ROUNDS; round++) await store.createRun(runOf(`batch-${round}`));
  const [ours, floor] = await microsPerCall(
    ITERATIONS.redis,
    (index) => store.recordSteps('one', 1, [recordOf(`s${index}`)]),
    async (index) => bare.writeOne('one', recordOf(`s${index}`)),
  );
  rows.push(['Redis: one record, recordSteps vs bare EVALSHA (HSET)', ours, floor]);
  const batch = Array.from({ length: BATCH }, (_, index) => recordOf(`b${index}`));
  const batchOurs: number[] = [];
  const batchFloor: number[] = [];
  for (let round = 0; round < BATCH_ROUNDS; round++) {
    batchOurs.push(await microsOf(() => store.recordSteps(`batch-${round}`, 1, batch)));
    batchFloor.push(await microsOf(async () => bare.writeBatch(`batch-${round}`, batch)));
  }
  rows.push([`Redis: batch of ${BATCH}, per record, vs one EVALSHA of ${BATCH} HSET`, median(batchOurs) / BATCH, median(batchFloor) / BATCH]);
  await deleteRedisKeys(redis, prefix);
  await store.close();
  await redis.quit();
}

async function benchPostgres(): Promise<void> {
  const schema = `fastroai_bench_${process.pid}`;
  const pool = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 2 });
  pool.on('error', () => {});
  const store = new PostgresRunStore({ pool, schema });
  await store.createRun(runOf('one'));
  for (let round = 0; round < BATCH_ROUNDS; round++) await store.createRun(runOf(`batch-${round}`));
  await pool.query(`CREATE TABLE ${schema}.floor (LIKE ${schema}.steps INCLUDING ALL)`);
  const bare = postgresBareWrites(pool, `${schema}.floor`);
  const [ours, floor] = await microsPerCall(
    ITERATIONS.postgres,
    (index) => store.recordSteps('one', 1, [recordOf(`s${index}`)]),
    async (index) => bare.writeOne('one', recordOf(`s${index}`)),
  );
  rows.push(['PostgreSQL: one record, recordSteps vs bare INSERT … ON CONFLICT', ours, floor]);
  const batch = Array.from({ length: BATCH }, (_, index) => recordOf(`b${index}`));
  const batchOurs: number[] = [];
  const batchFloor: number[] = [];
  for (let round = 0; round < BATCH_ROUNDS; round++) {
    batchOurs.push(await microsOf(() => store.recordSteps(`batch-${round}`, 1, batch)));
    batchFloor.push(await microsOf(async () => bare.writeBatch(`batch-${round}`, batch)));
  }
  rows.push([`PostgreSQL: batch of ${BATCH}, per record, vs one multi-row INSERT`, median(batchOurs) / BATCH, median(batchFloor) / BATCH]);
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await store.close();
  await pool.end();
}

async function main(): Promise<void> {
  await benchRedis();
  await benchPostgres();
  for (const [label, ours, floor] of rows) {
    console.log(`${label.padEnd(66)} ${ours.toFixed(1).padStart(7)} µs vs ${floor.toFixed(1).padStart(7)} µs  (${(ours / floor).toFixed(2)}×)`);
  }
}

void main();
