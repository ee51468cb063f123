/**
 * findStepRecords (issue 10): this package's stores are read with `getStepRecords`, 1,000 keys
 * a call; a store with only `getStepRecord` one key a call (never the whole run, however many
 * keys); a store with neither with one `getRun`.
 */
import type { StepRecord } from 'fastroai';
import { findStepRecords, recordKeyOf } from '../../src/distributed/find-step-records';
import { makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { CountingStore } from './support/counting-store';

const STEPS = 2_500;
const keys = Array.from({ length: STEPS + 10 }, (_, i) => ({ stepId: `s${i}`, generation: 1 }));

async function wideStore(): Promise<CountingStore> {
  const store = new CountingStore();
  await store.createRun(makeRunRecord('wide'));
  await store.recordSteps('wide', 1, Array.from({ length: STEPS }, (_, i) => makeStepRecord(`s${i}`)));
  return store;
}

function expectFound(found: Map<string, StepRecord>): void {
  expect(found.size).toBe(STEPS);
  expect(found.get(recordKeyOf('s1234', 1))?.stepId).toBe('s1234');
  expect(found.has(recordKeyOf(`s${STEPS}`, 1))).toBe(false);
}

it('reads a store of this package with getStepRecords, 1,000 keys a call', async () => {
  const store = await wideStore();
  expectFound(await findStepRecords(store, 'wide', keys));
  expect(store.batches).toEqual([1_000, 1_000, 510]);
  expect(store.getStepRecordCalls + store.getRunCalls).toBe(0);
});

it('reads a store with only getStepRecord one key a call, however many keys (not getRun)', async () => {
  const store = await wideStore();
  (store as { getStepRecords?: unknown }).getStepRecords = undefined;
  expectFound(await findStepRecords(store, 'wide', keys));
  expect(store.getStepRecordCalls).toBe(keys.length);
  expect(store.getRunCalls).toBe(0);
});

it('reads a store with neither with one getRun', async () => {
  const store = await wideStore();
  (store as { getStepRecords?: unknown }).getStepRecords = undefined;
  (store as { getStepRecord?: unknown }).getStepRecord = undefined;
  expectFound(await findStepRecords(store, 'wide', keys));
  expect(store.getRunCalls).toBe(1);
});
