/**
 * A worker's group commit (WorkerRecordBatcher) on a MemoryRunStore: a record whose job lock
 * was lost before its batch was sent is left out and its job gets the lock's error; the records
 * of one run handed in during one turn of the event loop go together, those of a later turn in
 * a later batch, and those at another epoch in their own.
 */
import { MemoryRunStore, type StepRecord } from 'fastroai';
import { JobLockWatch } from '../../src/distributed/job-lock-watch';
import { WorkerRecordBatcher } from '../../src/distributed/worker-record-batcher';
import { WorkerLostError } from '../../src/errors/worker-lost-error';
import { encodeValue } from '../../src/store/encode-value';
import type { RecordOutcome } from '../../src/store/run-store';

const watches: JobLockWatch[] = [];

afterEach(() => {
  for (const watch of watches.splice(0)) watch.stop();
});

/** A lock watch of a job taken just now (never asked to extend its lock here). */
function lockOf(stepId: string): JobLockWatch {
  const watch = new JobLockWatch({ processedOn: Date.now(), extendLock: async () => 1 }, 'token', stepId, 10_000, () => undefined);
  watches.push(watch);
  return watch;
}

function recordOf(stepId: string): StepRecord {
  const now = Date.now();
  return {
    stepId,
    generation: 1,
    status: 'completed',
    output: encodeValue(stepId),
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, requestCount: 0, costMicrocents: 0 },
    attempts: 1,
    startedAt: now,
    endedAt: now,
    workerId: 'w1',
  } as StepRecord;
}

/** A store with run `run-1` at epoch 1, its recordSteps batches listed. */
async function storeWithRun(): Promise<{ store: MemoryRunStore; batches: string[][] }> {
  const store = new MemoryRunStore();
  const now = Date.now();
  await store.createRun({ runId: 'run-1', pipeline: 'p', fingerprint: 'f', input: encodeValue({}), status: 'running', createdAt: now, updatedAt: now, costMicrocents: 0, owner: 'caller', epoch: 1, leaseUntil: now + 60_000 });
  const batches: string[][] = [];
  const recordSteps = store.recordSteps.bind(store);
  store.recordSteps = (runId: string, epoch: number, records: StepRecord[]) => {
    batches.push(records.map((record) => `${record.stepId}@${epoch}`));
    return recordSteps(runId, epoch, records);
  };
  return { store, batches };
}

it('leaves out a record whose lock was lost before its batch was sent, and rejects its job with the lock error', async () => {
  const { store, batches } = await storeWithRun();
  const batcher = new WorkerRecordBatcher(store);
  const lost = lockOf('b');

  const answers = ['a', 'b', 'c'].map((id) => batcher.record('run-1', 1, recordOf(id), id === 'b' ? lost : lockOf(id)).then((outcome) => outcome, (error: unknown) => error));
  lost.lost('Redis no longer holds its job lock for this worker'); // after b was handed in, before the batch goes
  const [a, b, c] = await Promise.all(answers);

  expect(batches).toEqual([['a@1', 'c@1']]);
  expect([a, c]).toEqual(['recorded', 'recorded']);
  expect(WorkerLostError.isInstance(b)).toBe(true);
  expect((await store.getRun('run-1'))!.steps.map((record) => record.stepId).sort()).toEqual(['a', 'c']);
});

it('sends the records of one run handed in during one turn of the event loop together, a later turn\'s apart, another epoch\'s apart', async () => {
  const { store, batches } = await storeWithRun();
  const batcher = new WorkerRecordBatcher(store);

  const first = batcher.record('run-1', 1, recordOf('a'), lockOf('a'));
  await new Promise((resolve) => setImmediate(resolve)); // a's turn ends: its batch is sent
  const later: Array<Promise<RecordOutcome>> = ['b', 'c'].map((id) => batcher.record('run-1', 1, recordOf(id), lockOf(id)));
  const stale = batcher.record('run-1', 0, recordOf('d'), lockOf('d'));

  expect(await Promise.all([first, ...later, stale])).toEqual(['recorded', 'recorded', 'recorded', 'stale-epoch']);
  expect(batches).toEqual(expect.arrayContaining([['a@1'], ['b@1', 'c@1'], ['d@0']]));
  expect(batches).toHaveLength(3);
});

it("wakes the callers up for the records a store that tells what it pushed did not push (too large), and for those it pushed to a caller that does not hear its pushes", async () => {
  const { store } = await storeWithRun();
  const pushing = Object.assign(store, {
    watchRecords: async () => ({ close: () => undefined }),
    // As RedisRunStore answers: a record it pushed, one too large to push, one another worker wrote first.
    recordStepsPushed: async (runId: string, epoch: number, records: StepRecord[]) => {
      const outcomes = await store.recordSteps(runId, epoch, records);
      return outcomes.map((outcome, i) => (outcome === 'recorded' && records[i].stepId !== 'large' ? 'pushed' : outcome));
    },
  });
  await store.recordSteps('run-1', 1, [recordOf('theirs')]);
  const woken: string[][] = [];
  const batcher = new WorkerRecordBatcher(pushing, (_, records) => void woken.push(records.map((record) => record.stepId)));

  // `unheard`'s caller does not hear the store's pushes (its watch failed, or its store is another object).
  const heard = { small: true, large: true, theirs: true, unheard: false } as Record<string, boolean>;
  const answers = await Promise.all(Object.keys(heard).map((stepId) => batcher.record('run-1', 1, recordOf(stepId), lockOf(stepId), heard[stepId])));

  expect(answers).toEqual(['recorded', 'recorded', 'duplicate', 'recorded']);
  expect(woken).toEqual([['large', 'theirs', 'unheard']]);
});

