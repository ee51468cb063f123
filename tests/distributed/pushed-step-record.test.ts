/**
 * A store that pushes the records it writes first (RedisRunStore): the caller settles those
 * steps from the push, without reading the store; a record too large to be pushed, or anything
 * else on the channel, is read from the store.
 */
import { Pipeline, step, type PipelineEvent, type StepContext } from 'fastroai';
import { createStepWorker, queueChannels, stepJobId, type QueueRunner, type StepWorker } from 'fastroai/distributed';
import { RedisRunStore } from 'fastroai/redis';
import { PostgresRunStore } from 'fastroai/postgres';
import { Client } from 'pg';
import type { RunStore } from 'fastroai';
import Redis from 'ioredis';
import { pushedRecordOf } from '../../src/distributed/pushed-step-record';
import { PUSHED_RECORD_MAX_BYTES } from '../../src/redis/redis-scripts';
import type { StepReconciler } from '../../src/distributed/step-reconciler';
import { encodeValue } from '../../src/store/encode-value';
import type { StepRecord } from '../../src/store/run-store';
import type { StepRecordKey, StepRecordsReader } from '../../src/store/step-records-reader';
import { useDistributedFixture } from './support/use-distributed-fixture';

jest.setTimeout(60_000);

const fixture = useDistributedFixture();

const BIG = 'x'.repeat(PUSHED_RECORD_MAX_BYTES);

/** a → b → big → c: `big`'s output is too large to ride its wake-up; `b` holds `bMs` once started. */
function chain(bMs = 0): Pipeline {
  return new Pipeline({
    name: 'pushed-test',
    steps: {
      a: step(() => 1),
      b: step(async (ctx: StepContext) => {
        if (bMs > 0) await new Promise((resolve) => setTimeout(resolve, bMs));
        return ctx.getDependency<number>('a') + 1;
      }),
      big: step(() => BIG),
      c: step((ctx: StepContext) => `${ctx.getDependency<string>('big').length}:${ctx.getDependency<number>('b')}`),
    },
    dependencies: { b: ['a'], big: ['b'], c: ['big'] },
  });
}

/**
 * The step ids the caller's store was asked for, one entry per key read. The runner reads
 * through `getStepRecords` (every store of this package has it; PostgreSQL's answers one key with
 * its `getStepRecord`, not counted twice).
 */
function countKeysRead(store: RunStore & StepRecordsReader): string[] {
  const read: string[] = [];
  const getStepRecords = store.getStepRecords.bind(store);
  store.getStepRecords = (runId: string, keys: readonly StepRecordKey[]) => {
    read.push(...keys.map((key) => key.stepId));
    return getStepRecords(runId, keys);
  };
  return read;
}

/** The runner without reconciliation (the test tells its reads apart from the wake-ups'). */
function withoutReconciliation(runner: QueueRunner): QueueRunner {
  (runner as unknown as { reconciler: StepReconciler }).reconciler.start = () => undefined;
  return runner;
}

/** A store on the fixture's Redis, under a prefix of the fixture's (its keys go with the fixture's). */
function redisStore(): RedisRunStore {
  const store = new RedisRunStore({ connection: { host: '127.0.0.1', port: fixture.redisPort }, prefix: `${fixture.prefix}:store:`, warnIfNotDurable: false });
  opened.push(store);
  return store;
}
const opened: RunStore[] = [];
const schemas: string[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  const admin = new Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
});

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
const pgSchema = `fastroai_pushed_${process.pid}_${Date.now()}`;

/** A store in a schema of this test file's own (dropped after each test). */
function postgresStore(): PostgresRunStore {
  if (!schemas.includes(pgSchema)) schemas.push(pgSchema);
  const store = new PostgresRunStore({ connectionString: POSTGRES_URL, schema: pgSchema, pushRecords: true });
  opened.push(store);
  return store;
}

async function inProcessWorker(pipeline: Pipeline, store: RunStore = fixture.store()): Promise<StepWorker> {
  const worker = createStepWorker({ pipelines: [pipeline], store, connection: { host: '127.0.0.1', port: fixture.redisPort }, prefix: fixture.prefix, name: 'w-in' });
  await worker.waitUntilReady();
  return worker;
}

describe('pushedRecordOf', () => {
  const record: StepRecord = {
    stepId: 'b',
    generation: 1,
    status: 'completed',
    output: encodeValue(2, 'b'),
    usage: { model: undefined, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, inputAudioTokens: 0, outputAudioTokens: 0, cacheAudioReadTokens: 0, requestCount: 0, toolCallCount: 0, costMicrocents: 0, processingTimeMs: 0 },
    attempts: 1,
    startedAt: 1,
    endedAt: 2,
    workerId: 'w1',
  };
  const pushed = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;

  it("takes the record of the step and generation asked for, as JSON gives it", () => {
    expect(pushedRecordOf(pushed, 'b', 1)).toBe(pushed);
    expect(pushedRecordOf({ ...pushed, status: 'failed', output: undefined, error: { name: 'Error', message: 'no' } }, 'b', 1)).toBeDefined();
  });

  it.each([
    ['another step', { ...pushed, stepId: 'c' }],
    ['another generation', { ...pushed, generation: 2 }],
    ['an unknown status', { ...pushed, status: 'done' }],
    ['attempts not a number', { ...pushed, attempts: '1' }],
    ['no times', { ...pushed, startedAt: undefined }],
    ['no usage', { ...pushed, usage: null }],
    ['usage without its cost', { ...pushed, usage: { requestCount: 0 } }],
    ['an output that is not encoded text', { ...pushed, output: 2 }],
    ['a workerId that is not text', { ...pushed, workerId: 7 }],
    ['an error without a message', { ...pushed, error: { name: 'Error' } }],
    ['null', null],
    ['a string', 'record'],
  ])('refuses %s', (_, value) => {
    expect(pushedRecordOf(value, 'b', 1)).toBeUndefined();
  });
});

describe('a caller', () => {
  it.each([
    ['RedisRunStore', () => redisStore()],
    ['PostgresRunStore', () => postgresStore()],
  ] as const)("settles steps from the records its store pushes (%s), reading only the one too large to be pushed", async (storeName, openStore) => {
    const pipeline = chain();
    const worker = await inProcessWorker(pipeline, openStore());
    try {
      const store = openStore();
      const read = countKeysRead(store);
      const events: PipelineEvent[] = [];
      const result = await pipeline.execute({}, undefined, { store, runner: withoutReconciliation(fixture.runner()), runId: 'pushed', onEvent: (event) => void events.push(event) });

      expect(result.output).toBe(`${BIG.length}:2`);
      if (storeName === 'RedisRunStore') {
        // Its push goes out before the script answers the worker: always before the wake-up.
        expect(read).toEqual(['big']);
      } else {
        // A NOTIFY reaches the caller once the server has scheduled the listening backend: the
        // worker's wake-up may come first now and then, and that step is read.
        expect(read).toContain('big');
        expect(read.filter((stepId) => stepId !== 'big').length).toBeLessThan(3);
      }
      // Settled from the pushes as from the store's records: the worker named, the run recorded alike.
      const completed = events.filter((event) => event.type === 'step.completed');
      expect(completed.map((event) => [event.stepId, (event as { workerId?: string }).workerId])).toEqual([
        ['a', 'w-in'],
        ['b', 'w-in'],
        ['big', 'w-in'],
        ['c', 'w-in'],
      ]);
      const stored = await store.getRun('pushed');
      expect(stored!.run.status).toBe('completed');
      expect(stored!.steps.map((record) => record.stepId).sort()).toEqual(['a', 'b', 'big', 'c']);
    } finally {
      await worker.close();
    }
  });

  it("is woken up by the worker for records its store pushed when the caller does not hear those pushes (its store object does not push)", async () => {
    const pipeline = chain();
    const worker = await inProcessWorker(pipeline, redisStore());
    try {
      // The caller's store: the same Redis keys, through an object that is not a RecordPusher.
      const inner = redisStore();
      const store: RunStore = {
        name: 'wrapped redis',
        createRun: (run) => inner.createRun(run),
        claimRun: (runId, owner, leaseMs) => inner.claimRun(runId, owner, leaseMs),
        renewLease: (runId, owner, epoch, leaseMs) => inner.renewLease(runId, owner, epoch, leaseMs),
        recordSteps: (runId, epoch, records) => inner.recordSteps(runId, epoch, records),
        setRunStatus: (runId, epoch, status, fields) => inner.setRunStatus(runId, epoch, status, fields),
        addRunCost: (runId, microcents) => inner.addRunCost(runId, microcents),
        getRun: (runId) => inner.getRun(runId),
        listRuns: (query) => inner.listRuns(query),
        close: async () => undefined,
      };
      // Without reconciliation, a step whose wake-up is not sent would wait for ever.
      const result = await pipeline.execute({}, undefined, { store, runner: withoutReconciliation(fixture.runner()), runId: 'unheard' });
      expect(result.output).toBe(`${BIG.length}:2`);
    } finally {
      await worker.close();
    }
  });

  it('reads every record from a store that does not push them (SQLite)', async () => {
    const pipeline = chain();
    const worker = await inProcessWorker(pipeline);
    try {
      const store = fixture.store();
      const read = countKeysRead(store);
      const result = await pipeline.execute({}, undefined, { store, runner: withoutReconciliation(fixture.runner()), runId: 'read' });
      expect(result.output).toBe(`${BIG.length}:2`);
      expect(read).toEqual(['a', 'b', 'big', 'c']);
    } finally {
      await worker.close();
    }
  });

  it("reads the store for a push that is not the step's record, or does not decode, and keeps the record the store has", async () => {
    const pipeline = chain(400);
    const workerStore = redisStore();
    const worker = await inProcessWorker(pipeline, workerStore);
    const publisher = new Redis({ host: '127.0.0.1', port: fixture.redisPort });
    try {
      const store = redisStore();
      const read = countKeysRead(store);
      const runner = withoutReconciliation(fixture.runner());
      const forged = { stepId: 'b', generation: 1, status: 'completed', usage: { requestCount: 0, costMicrocents: 0 }, attempts: 1, startedAt: 1, endedAt: 2 };
      const bOutputs: unknown[] = [];
      let published: Promise<number> | undefined;
      const result = await pipeline.execute({}, undefined, {
        store,
        runner,
        runId: 'forged',
        onEvent: (event) => {
          // While b runs (400 ms): a record of another generation, one whose output does not decode, and junk.
          if (event.type === 'step.started' && event.stepId === 'b' && published === undefined) {
            const records = [{ ...forged, generation: 2, output: encodeValue('forged', 'b') }, { ...forged, output: '{not json' }, null, 5];
            published = publisher.publish(`${fixture.prefix}:store:records@0`, JSON.stringify({ runId: 'forged', records }));
            void publisher.publish(`${fixture.prefix}:store:records@0`, '{"runId":7}');
          }
          if (event.type === 'step.completed' && event.stepId === 'b') bOutputs.push(event.output);
        },
      });

      expect(await published).toBeGreaterThan(0);
      expect(bOutputs).toEqual([2]);
      expect(result.output).toBe(`${BIG.length}:2`);
      expect(read.filter((stepId) => stepId !== 'b')).toEqual(['big']);
    } finally {
      publisher.disconnect();
      await worker.close();
    }
  });
});
