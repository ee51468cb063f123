/**
 * Micro-benchmark (not a test): what `SqliteRunStore.recordSteps` costs over the floor, a bare
 * better-sqlite3 insert of the same row into the same table under the same pragmas.
 *
 * - one ~1 KB record per call, each call its own transaction (a chain's step after step);
 * - a batch of 1,000 records per call (a fan-out's group commit), against 1,000 bare inserts in
 *   one transaction.
 *
 * Run: `npx ts-node -T bench/store-floor.ts`. Prints medians over alternating rounds, in µs per record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRunStore } from '../src/sqlite/sqlite-run-store';
import { rowOfRun } from '../src/sqlite/sqlite-rows';
import { encodeValue } from '../src/store/encode-value';
import type { RunRecord, StepRecord } from '../src/store/run-store';
import { openSqliteBareWrites } from './bare-step-writes';

const ROUNDS = 5;
const SINGLE_CALLS = 1_000;
const BATCH_CALLS = 4;
const BATCH_SIZE = 1_000;

const output = encodeValue({
  summary: 'A booking request for two nights in the spring, with breakfast and a late checkout.',
  entities: Array.from({ length: 11 }, (_, index) => ({ id: index, kind: 'person', text: `entity number ${index}`, score: index / 10 })),
});

function runRecord(runId: string): RunRecord {
  const now = Date.now();
  return {
    runId, pipeline: 'bench', fingerprint: 'f', input: '{}', status: 'running', createdAt: now, updatedAt: now,
    costMicrocents: 0, owner: 'bench', epoch: 1, leaseUntil: now + 60_000,
  };
}

function stepRecord(stepId: string): StepRecord {
  return {
    stepId, generation: 1, status: 'completed', output, attempts: 1, startedAt: 1, endedAt: 2,
    usage: {
      inputTokens: 100, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, inputAudioTokens: 0, outputAudioTokens: 0,
      cacheAudioReadTokens: 0, requestCount: 1, toolCallCount: 0, costMicrocents: 1234, processingTimeMs: 7, model: 'gpt-4o',
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function micros(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1000;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fastroai-bench-'));
  try {
    const store = new SqliteRunStore({ path: join(dir, 'store.db') });
    const bare = openSqliteBareWrites(join(dir, 'bare.db'));
    bare.db.prepare('INSERT INTO fastroai_runs VALUES (@run_id, @pipeline, @fingerprint, @input, @status, @created_at, @updated_at, @cost_microcents, @owner, @epoch, @lease_until, @error, @conversation_state)').run(rowOfRun(runRecord('bare')));
    await store.createRun(runRecord('store'));
    console.log(`record: ${Buffer.byteLength(JSON.stringify(stepRecord('s')))} bytes as JSON; ${process.version}`);

    const samples = { bareSingle: [] as number[], storeSingle: [] as number[], bareBatch: [] as number[], storeBatch: [] as number[] };
    // Rounds alternate the contenders, so a busy moment of the machine hits both; medians are printed.
    for (let round = 0; round < ROUNDS; round++) {
      let start = process.hrtime.bigint();
      for (let index = 0; index < SINGLE_CALLS; index++) bare.writeOne('bare', stepRecord(`single-${round}-${index}`));
      samples.bareSingle.push(micros(start) / SINGLE_CALLS);
      start = process.hrtime.bigint();
      for (let index = 0; index < SINGLE_CALLS; index++) await store.recordSteps('store', 1, [stepRecord(`single-${round}-${index}`)]);
      samples.storeSingle.push(micros(start) / SINGLE_CALLS);
      start = process.hrtime.bigint();
      for (let call = 0; call < BATCH_CALLS; call++) {
        bare.writeBatch('bare', Array.from({ length: BATCH_SIZE }, (_, index) => stepRecord(`batch-${round}-${call}-${index}`)));
      }
      samples.bareBatch.push(micros(start) / BATCH_CALLS);
      start = process.hrtime.bigint();
      for (let call = 0; call < BATCH_CALLS; call++) {
        await store.recordSteps('store', 1, Array.from({ length: BATCH_SIZE }, (_, index) => stepRecord(`batch-${round}-${call}-${index}`)));
      }
      samples.storeBatch.push(micros(start) / BATCH_CALLS);
    }
    const bareSingle = median(samples.bareSingle);
    const storeSingle = median(samples.storeSingle);
    const bareBatch = median(samples.bareBatch);
    const storeBatch = median(samples.storeBatch);

    const line = (label: string, ours: number, floor: number, per: number): string =>
      `${label.padEnd(34)} ${(ours / per).toFixed(1).padStart(7)} µs/record vs bare ${(floor / per).toFixed(1).padStart(7)} µs/record  (${(ours / floor).toFixed(2)}×)`;
    console.log(line('recordSteps, 1 record per call', storeSingle, bareSingle, 1));
    console.log(line(`recordSteps, ${BATCH_SIZE} records per call`, storeBatch, bareBatch, BATCH_SIZE));
    console.log(`batch call: ${(storeBatch / 1000).toFixed(1)} ms vs bare ${(bareBatch / 1000).toFixed(1)} ms`);
    bare.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
