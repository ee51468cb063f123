/**
 * StepRecordReader (issue 10): the records asked for in one tick are read with one store call
 * per run; reads in later ticks are read apart; a failed read rejects every read of its batch.
 */
import { StepRecordReader } from '../../src/distributed/step-record-reader';
import { makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { CountingStore } from './support/counting-store';

async function storeWithSteps(): Promise<CountingStore> {
  const store = new CountingStore();
  for (const runId of ['r1', 'r2']) {
    await store.createRun(makeRunRecord(runId));
    await store.recordSteps(runId, 1, ['a', 'b', 'c'].map((id) => makeStepRecord(`${runId}-${id}`)));
  }
  return store;
}

it('reads the records asked for in one tick with one call per run', async () => {
  const store = await storeWithSteps();
  const reader = new StepRecordReader();
  const reads = [
    reader.read(store, 'r1', { stepId: 'r1-a', generation: 1 }),
    reader.read(store, 'r2', { stepId: 'r2-b', generation: 1 }),
    reader.read(store, 'r1', { stepId: 'r1-c', generation: 1 }),
    reader.read(store, 'r1', { stepId: 'r1-missing', generation: 1 }),
    reader.read(store, 'r1', { stepId: 'r1-a', generation: 2 }),
  ];
  const records = await Promise.all(reads);

  expect(records.map((record) => record?.stepId)).toEqual(['r1-a', 'r2-b', 'r1-c', undefined, undefined]);
  expect(store.batches.sort()).toEqual([1, 4]);
  expect(store.getStepRecordCalls + store.getRunCalls).toBe(0);
});

it('reads apart what is asked for in later ticks', async () => {
  const store = await storeWithSteps();
  const reader = new StepRecordReader();
  expect((await reader.read(store, 'r1', { stepId: 'r1-a', generation: 1 }))?.stepId).toBe('r1-a');
  expect((await reader.read(store, 'r1', { stepId: 'r1-b', generation: 1 }))?.stepId).toBe('r1-b');
  expect(store.batches).toEqual([1, 1]);
});

it('rejects every read of a batch whose store call failed, and only those', async () => {
  const store = await storeWithSteps();
  const broken = await storeWithSteps();
  broken.getStepRecords = () => Promise.reject(new RangeError('the store is broken'));
  const reader = new StepRecordReader();
  const outcomes = await Promise.allSettled([
    reader.read(broken, 'r1', { stepId: 'r1-a', generation: 1 }),
    reader.read(store, 'r1', { stepId: 'r1-a', generation: 1 }),
    reader.read(broken, 'r1', { stepId: 'r1-b', generation: 1 }),
  ]);
  expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
  expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/the store is broken/);
});

it('sends the reads asked for while a read of their run is in flight together, when it answers', async () => {
  const store = await storeWithSteps();
  const read = store.getStepRecords.bind(store);
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const calls: number[] = [];
  store.getStepRecords = async (runId, keys) => {
    calls.push(keys.length);
    await gate;
    return read(runId, keys);
  };
  const reader = new StepRecordReader();
  const first = reader.read(store, 'r1', { stepId: 'r1-a', generation: 1 });
  await new Promise((resolve) => setImmediate(resolve));
  expect(calls).toEqual([1]);
  // Asked in three ticks while the first call waits: one call when it answers.
  const later: Array<Promise<unknown>> = [];
  for (const id of ['b', 'c', 'missing']) {
    later.push(reader.read(store, 'r1', { stepId: `r1-${id}`, generation: 1 }));
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(calls).toEqual([1]);
  open();
  expect((await first as { stepId: string }).stepId).toBe('r1-a');
  expect((await Promise.all(later)).map((record) => (record as { stepId: string } | undefined)?.stepId)).toEqual(['r1-b', 'r1-c', undefined]);
  expect(calls).toEqual([1, 3]);
});
