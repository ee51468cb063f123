/**
 * A worker's wake-up carries the small records it wrote first: the caller settles those steps
 * from it, without reading the store; a large record, or anything else on the channel, is read
 * from the store (the records are what the store holds, the wake-up only saves the read).
 */
import { Pipeline, step, type PipelineEvent, type StepContext } from 'fastroai';
import { createStepWorker, queueChannels, stepJobId, type QueueRunner, type StepWorker } from 'fastroai/distributed';
import type { SqliteRunStore } from 'fastroai/sqlite';
import Redis from 'ioredis';
import { CARRIED_RECORD_MAX_CHARS, carriedRecordOf, isCarriable } from '../../src/distributed/carried-step-record';
import type { StepReconciler } from '../../src/distributed/step-reconciler';
import { encodeValue } from '../../src/store/encode-value';
import type { StepRecord } from '../../src/store/run-store';
import type { StepRecordKey } from '../../src/store/step-records-reader';
import { useDistributedFixture } from './support/use-distributed-fixture';

jest.setTimeout(60_000);

const fixture = useDistributedFixture();

const BIG = 'x'.repeat(CARRIED_RECORD_MAX_CHARS + 1);

/** a → b → big → c: `big`'s output is too large to ride its wake-up; `b` holds `bMs` once started. */
function chain(bMs = 0): Pipeline {
  return new Pipeline({
    name: 'carried-test',
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

/** The step ids the caller's store was asked for, one entry per key read (getStepRecords or getStepRecord). */
function countKeysRead(store: SqliteRunStore): string[] {
  const read: string[] = [];
  const getStepRecords = store.getStepRecords.bind(store);
  store.getStepRecords = (runId: string, keys: readonly StepRecordKey[]) => {
    read.push(...keys.map((key) => key.stepId));
    return getStepRecords(runId, keys);
  };
  const getStepRecord = store.getStepRecord.bind(store);
  store.getStepRecord = (runId: string, stepId: string, generation: number) => {
    read.push(stepId);
    return getStepRecord(runId, stepId, generation);
  };
  return read;
}

/** The runner without reconciliation (the test tells its reads apart from the wake-ups'). */
function withoutReconciliation(runner: QueueRunner): QueueRunner {
  (runner as unknown as { reconciler: StepReconciler }).reconciler.start = () => undefined;
  return runner;
}

async function inProcessWorker(pipeline: Pipeline): Promise<StepWorker> {
  const worker = createStepWorker({ pipelines: [pipeline], store: fixture.store(), connection: { host: '127.0.0.1', port: fixture.redisPort }, prefix: fixture.prefix, name: 'w-in' });
  await worker.waitUntilReady();
  return worker;
}

describe('carriedRecordOf', () => {
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
  const carried = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;

  it("takes the record of the step and generation asked for, as JSON carries it", () => {
    expect(carriedRecordOf(carried, 'b', 1)).toBe(carried);
    expect(carriedRecordOf({ ...carried, status: 'failed', output: undefined, error: { name: 'Error', message: 'no' } }, 'b', 1)).toBeDefined();
  });

  it.each([
    ['another step', { ...carried, stepId: 'c' }],
    ['another generation', { ...carried, generation: 2 }],
    ['an unknown status', { ...carried, status: 'done' }],
    ['attempts not a number', { ...carried, attempts: '1' }],
    ['no times', { ...carried, startedAt: undefined }],
    ['no usage', { ...carried, usage: null }],
    ['usage without its cost', { ...carried, usage: { requestCount: 0 } }],
    ['an output that is not encoded text', { ...carried, output: 2 }],
    ['a workerId that is not text', { ...carried, workerId: 7 }],
    ['an error without a message', { ...carried, error: { name: 'Error' } }],
    ['null', null],
    ['a string', 'record'],
  ])('refuses %s', (_, value) => {
    expect(carriedRecordOf(value, 'b', 1)).toBeUndefined();
  });

  it(`carries records of up to ${CARRIED_RECORD_MAX_CHARS} characters of output and error message`, () => {
    expect(isCarriable({ ...record, output: 'y'.repeat(CARRIED_RECORD_MAX_CHARS) })).toBe(true);
    expect(isCarriable({ ...record, output: BIG })).toBe(false);
    expect(isCarriable({ ...record, output: undefined, status: 'failed', error: { name: 'Error', message: BIG } })).toBe(false);
  });
});

describe('a caller', () => {
  it('settles steps from the records their wake-ups carry, reading from the store only the one too large to ride', async () => {
    const pipeline = chain();
    const worker = await inProcessWorker(pipeline);
    try {
      const store = fixture.store();
      const read = countKeysRead(store);
      const events: PipelineEvent[] = [];
      const result = await pipeline.execute({}, undefined, { store, runner: withoutReconciliation(fixture.runner()), runId: 'carried', onEvent: (event) => void events.push(event) });

      expect(result.output).toBe(`${BIG.length}:2`);
      expect(read).toEqual(['big']);
      // Settled from the carried records as from the store's: the worker named, the run recorded alike.
      const completed = events.filter((event) => event.type === 'step.completed');
      expect(completed.map((event) => [event.stepId, (event as { workerId?: string }).workerId])).toEqual([
        ['a', 'w-in'],
        ['b', 'w-in'],
        ['big', 'w-in'],
        ['c', 'w-in'],
      ]);
      const stored = await store.getRun('carried');
      expect(stored!.run.status).toBe('completed');
      expect(stored!.steps.map((record) => record.stepId).sort()).toEqual(['a', 'b', 'big', 'c']);
    } finally {
      await worker.close();
    }
  });

  it("reads the store for a wake-up whose carried record is not the step's, or does not decode, and keeps the record the store has", async () => {
    const pipeline = chain(400);
    const worker = await inProcessWorker(pipeline);
    const publisher = new Redis({ host: '127.0.0.1', port: fixture.redisPort });
    try {
      const store = fixture.store();
      const read = countKeysRead(store);
      const runner = withoutReconciliation(fixture.runner());
      const { ended } = queueChannels(fixture.prefix, runner.queueName);
      const jobId = stepJobId('forged', 'b', 1);
      const forged = { stepId: 'b', generation: 1, status: 'completed', usage: { requestCount: 0, costMicrocents: 0 }, attempts: 1, startedAt: 1, endedAt: 2 };
      let published: Promise<number> | undefined;
      const result = await pipeline.execute({}, undefined, {
        store,
        runner,
        runId: 'forged',
        onEvent: (event) => {
          // While b runs (400 ms): a record of another generation, and one whose output does not decode.
          if (event.type === 'step.started' && event.stepId === 'b' && published === undefined) {
            published = publisher.publish(ended, JSON.stringify({ recorded: [jobId, jobId], records: [{ ...forged, generation: 2, output: encodeValue('forged', 'b') }, { ...forged, output: '{not json' }] }));
          }
        },
      });

      expect(await published).toBeGreaterThan(0);
      expect(result.output).toBe(`${BIG.length}:2`);
      // b was read for each forged record (not there yet), then settled from its own wake-up's.
      expect(read.filter((stepId) => stepId === 'b').length).toBeGreaterThanOrEqual(1);
      expect(read.filter((stepId) => stepId !== 'b')).toEqual(['big']);
    } finally {
      publisher.disconnect();
      await worker.close();
    }
  });
});
