/**
 * The contract every {@link RunStore} follows (API.md §12, the JSDoc of src/store/run-store.ts),
 * as one suite each store's test file runs against a real instance:
 *
 *   describeRunStoreContract('SqliteRunStore', async ({ now }) => ({ store: new SqliteRunStore({ path, now }), cleanup }));
 *
 * `makeStore` receives the suite's clock (epoch ms) and must use it for leases and `updatedAt`,
 * so lease expiry is tested without waiting.
 */
import {
  RunExistsError,
  RunLeaseLostError,
  RunLockedError,
  RunNotFoundError,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type StepRecord,
} from 'fastroai';
import { encodeValue } from '../../src/store/encode-value';
import { readsStepRecords } from '../../src/store/step-records-reader';

/** What a store's test file gives the suite. */
export interface RunStoreUnderTest {
  store: RunStore;
  /** Drops what the store wrote (the file, the key prefix, the schema). Called after `close()`. */
  cleanup(): Promise<void>;
}

/** The suite's clock; `makeStore` passes it to the store as its `now` option. */
export interface RunStoreTestClock {
  now: () => number;
}

const START_MS = 1_700_000_000_000;
const LEASE_MS = 30_000;

/** A run record as `execute` creates it: owned by `owner` at epoch 1. */
export function makeRunRecord(runId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    pipeline: 'booking',
    fingerprint: 'fp-1',
    input: encodeValue({ message: 'hi', at: new Date(START_MS) }),
    status: 'running',
    createdAt: START_MS,
    updatedAt: START_MS,
    costMicrocents: 0,
    owner: 'host:1:first',
    epoch: 1,
    leaseUntil: START_MS + LEASE_MS,
    ...overrides,
  };
}

/** A completed step record with an encoded output. */
export function makeStepRecord(stepId: string, generation = 1, overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    stepId,
    generation,
    status: 'completed',
    output: encodeValue({ stepId, values: new Map([['k', 1n]]) }),
    usage: {
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      inputAudioTokens: 0,
      outputAudioTokens: 0,
      cacheAudioReadTokens: 0,
      requestCount: 1,
      toolCallCount: 0,
      costMicrocents: 1234,
      processingTimeMs: 7,
      model: 'gpt-4o',
    },
    attempts: 1,
    startedAt: START_MS + 1,
    endedAt: START_MS + 2,
    ...overrides,
  };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * Defines the contract tests of a run store.
 * @param name the store's name in the test titles
 * @param makeStore opens a fresh, empty store that reads time from `clock.now`
 */
export function describeRunStoreContract(name: string, makeStore: (clock: RunStoreTestClock) => Promise<RunStoreUnderTest>): void {
  describe(`${name} follows the RunStore contract`, () => {
    let nowMs = START_MS;
    let store: RunStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      nowMs = START_MS;
      ({ store, cleanup } = await makeStore({ now: () => nowMs }));
    });

    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    describe('createRun', () => {
      it('stores the run as given, with no step records', async () => {
        const run = makeRunRecord('r1', { error: { name: 'Error', code: 'E', message: 'm' }, conversationState: encodeValue({ x: 1 }) });
        await store.createRun(run);
        expect(await store.getRun('r1')).toStrictEqual({ run, steps: [] });
      });

      it('refuses a runId that exists and keeps the first run', async () => {
        await store.createRun(makeRunRecord('r1'));
        const error = await rejectionOf(store.createRun(makeRunRecord('r1', { pipeline: 'other' })));
        expect(RunExistsError.isInstance(error)).toBe(true);
        expect((error as RunExistsError).runId).toBe('r1');
        expect((await store.getRun('r1'))?.run.pipeline).toBe('booking');
      });

      it('keeps a copy: mutating the record after writing it changes nothing stored', async () => {
        const run = makeRunRecord('r1', { error: { name: 'Error', message: 'm' } });
        await store.createRun(run);
        run.status = 'failed';
        run.error!.message = 'changed';
        const stored = await store.getRun('r1');
        expect(stored?.run.status).toBe('running');
        expect(stored?.run.error?.message).toBe('m');
        stored!.run.status = 'aborted';
        expect((await store.getRun('r1'))?.run.status).toBe('running');
      });
    });

    describe('claimRun', () => {
      it('increments the epoch, sets the owner and the lease, and returns every step record', async () => {
        await store.createRun(makeRunRecord('r1'));
        await store.recordSteps('r1', 1, [makeStepRecord('a'), makeStepRecord('b')]);
        nowMs += LEASE_MS + 1;
        const claimed = await store.claimRun('r1', 'host:2:second', 10_000);
        expect(claimed.epoch).toBe(2);
        expect(claimed.run.epoch).toBe(2);
        expect(claimed.run.owner).toBe('host:2:second');
        expect(claimed.run.leaseUntil).toBe(nowMs + 10_000);
        expect(claimed.steps).toStrictEqual([makeStepRecord('a'), makeStepRecord('b')]);
        expect((await store.getRun('r1'))?.run).toMatchObject({ epoch: 2, owner: 'host:2:second', leaseUntil: nowMs + 10_000 });
      });

      it('lets the same owner claim again while its lease is live, with a new epoch', async () => {
        await store.createRun(makeRunRecord('r1'));
        expect((await store.claimRun('r1', 'host:1:first', LEASE_MS)).epoch).toBe(2);
        expect((await store.claimRun('r1', 'host:1:first', LEASE_MS)).epoch).toBe(3);
      });

      it("refuses another owner while the lease is live, naming the holder, and changes nothing", async () => {
        await store.createRun(makeRunRecord('r1'));
        nowMs += LEASE_MS - 1;
        const error = await rejectionOf(store.claimRun('r1', 'host:2:second', LEASE_MS));
        expect(RunLockedError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ runId: 'r1', owner: 'host:1:first', leaseUntil: START_MS + LEASE_MS });
        expect((await store.getRun('r1'))?.run).toMatchObject({ epoch: 1, owner: 'host:1:first' });
      });

      it('lets another owner claim once the lease has expired', async () => {
        await store.createRun(makeRunRecord('r1'));
        nowMs = START_MS + LEASE_MS;
        expect((await store.claimRun('r1', 'host:2:second', LEASE_MS)).epoch).toBe(2);
      });

      it('lets exactly one of many concurrent claims by different owners win', async () => {
        await store.createRun(makeRunRecord('r1', { leaseUntil: 0 }));
        const settled = await Promise.allSettled(Array.from({ length: 10 }, (_, index) => store.claimRun('r1', `host:${index}:racer`, LEASE_MS)));
        const winners = settled.filter((outcome) => outcome.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        expect(settled.filter((outcome) => outcome.status === 'rejected' && RunLockedError.isInstance(outcome.reason))).toHaveLength(9);
        const run = (await store.getRun('r1'))!.run;
        expect(run.epoch).toBe(2);
        expect(run.owner).toBe((winners[0] as PromiseFulfilledResult<{ run: RunRecord }>).value.run.owner);
      });

      it('rejects an unknown run with RunNotFoundError', async () => {
        const error = await rejectionOf(store.claimRun('missing', 'host:1:first', LEASE_MS));
        expect(RunNotFoundError.isInstance(error)).toBe(true);
        expect((error as RunNotFoundError).runId).toBe('missing');
      });
    });

    describe('renewLease', () => {
      it('extends the lease of the holder, which keeps others out past the old expiry', async () => {
        await store.createRun(makeRunRecord('r1'));
        nowMs += 20_000;
        expect(await store.renewLease('r1', 'host:1:first', 1, LEASE_MS)).toBe(true);
        expect((await store.getRun('r1'))?.run.leaseUntil).toBe(nowMs + LEASE_MS);
        nowMs = START_MS + LEASE_MS + 1;
        expect(RunLockedError.isInstance(await rejectionOf(store.claimRun('r1', 'host:2:second', LEASE_MS)))).toBe(true);
      });

      it('answers false once another process claimed the run, and leaves its lease alone', async () => {
        await store.createRun(makeRunRecord('r1'));
        nowMs += LEASE_MS + 1;
        await store.claimRun('r1', 'host:2:second', 5_000);
        expect(await store.renewLease('r1', 'host:1:first', 1, LEASE_MS)).toBe(false);
        expect(await store.renewLease('r1', 'host:2:second', 1, LEASE_MS)).toBe(false);
        expect((await store.getRun('r1'))?.run).toMatchObject({ owner: 'host:2:second', leaseUntil: nowMs + 5_000 });
      });

      it('answers false for an unknown run', async () => {
        expect(await store.renewLease('missing', 'host:1:first', 1, LEASE_MS)).toBe(false);
      });
    });

    describe('recordSteps', () => {
      beforeEach(async () => {
        await store.createRun(makeRunRecord('r1'));
      });

      it('records each step as given', async () => {
        const failed = makeStepRecord('b', 1, {
          status: 'failed',
          output: undefined,
          error: {
            name: 'StepTimeoutError',
            code: 'fastroai:step-timeout',
            message: "Step 'b' timed out after 5s (attempt 3)",
            details: { stepId: 'b', timeoutSeconds: 5, attempt: 3 },
          },
          attempts: 3,
          workerId: 'worker-7',
        });
        delete failed.output;
        expect(await store.recordSteps('r1', 1, [makeStepRecord('a'), failed])).toEqual(['recorded', 'recorded']);
        expect((await store.getRun('r1'))?.steps).toStrictEqual([makeStepRecord('a'), failed]);
      });

      it('never overwrites: a second record with the same key is a duplicate, even with other content', async () => {
        await store.recordSteps('r1', 1, [makeStepRecord('a')]);
        const other = makeStepRecord('a', 1, { output: encodeValue('other'), attempts: 2 });
        expect(await store.recordSteps('r1', 1, [other])).toEqual(['duplicate']);
        nowMs += LEASE_MS + 1;
        const { epoch } = await store.claimRun('r1', 'host:2:second', LEASE_MS);
        expect(await store.recordSteps('r1', epoch, [other, makeStepRecord('b')])).toEqual(['duplicate', 'recorded']);
        expect((await store.getRun('r1'))?.steps).toStrictEqual([makeStepRecord('a'), makeStepRecord('b')]);
      });

      it('answers duplicate for the second of two records with one key in one batch', async () => {
        const second = makeStepRecord('a', 1, { attempts: 9 });
        expect(await store.recordSteps('r1', 1, [makeStepRecord('a'), second])).toEqual(['recorded', 'duplicate']);
        expect((await store.getRun('r1'))?.steps).toStrictEqual([makeStepRecord('a')]);
      });

      it('refuses a whole batch written with a stale epoch, and writes none of it', async () => {
        nowMs += LEASE_MS + 1;
        await store.claimRun('r1', 'host:2:second', LEASE_MS);
        expect(await store.recordSteps('r1', 1, [makeStepRecord('a'), makeStepRecord('b'), makeStepRecord('c')])).toEqual([
          'stale-epoch',
          'stale-epoch',
          'stale-epoch',
        ]);
        expect(await store.recordSteps('r1', 3, [makeStepRecord('a')])).toEqual(['stale-epoch']);
        expect((await store.getRun('r1'))?.steps).toEqual([]);
      });

      it('writes one batch of many records, answering in order', async () => {
        const records = Array.from({ length: 200 }, (_, index) => makeStepRecord(`s${index}`));
        const outcomes = await store.recordSteps('r1', 1, records);
        expect(outcomes).toEqual(records.map(() => 'recorded'));
        expect((await store.getRun('r1'))?.steps.map((record) => record.stepId)).toEqual(records.map((record) => record.stepId));
      });

      it('records exactly one of many concurrent writes of one key', async () => {
        const writes = Array.from({ length: 20 }, (_, index) => makeStepRecord('a', 1, { attempts: index + 1 }));
        const outcomes = (await Promise.all(writes.map((record) => store.recordSteps('r1', 1, [record])))).map(([outcome]) => outcome);
        expect(outcomes.filter((outcome) => outcome === 'recorded')).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(19);
        expect((await store.getRun('r1'))?.steps).toStrictEqual([writes[outcomes.indexOf('recorded')]]);
      });

      it('answers an empty list for an empty batch', async () => {
        expect(await store.recordSteps('r1', 1, [])).toEqual([]);
      });

      it('keeps generations of a step as separate records', async () => {
        const first = makeStepRecord('a', 1, { status: 'incomplete', output: encodeValue({ missing: ['email'] }) });
        const second = makeStepRecord('a', 2);
        expect(await store.recordSteps('r1', 1, [first])).toEqual(['recorded']);
        expect(await store.recordSteps('r1', 1, [second, makeStepRecord('a', 1)])).toEqual(['recorded', 'duplicate']);
        expect((await store.getRun('r1'))?.steps).toStrictEqual([first, second]);
      });

      it('keeps a copy: mutating a record after writing it changes nothing stored', async () => {
        const record = makeStepRecord('a');
        await store.recordSteps('r1', 1, [record]);
        record.usage.costMicrocents = 0;
        record.status = 'failed';
        expect((await store.getRun('r1'))?.steps).toStrictEqual([makeStepRecord('a')]);
      });

      it('rejects an unknown run with RunNotFoundError', async () => {
        expect(RunNotFoundError.isInstance(await rejectionOf(store.recordSteps('missing', 1, [makeStepRecord('a')])))).toBe(true);
      });
    });

    describe('setRunStatus', () => {
      beforeEach(async () => {
        await store.createRun(makeRunRecord('r1', { error: { name: 'Error', message: 'old' } }));
      });

      it('sets the status, the given fields and updatedAt, and keeps identity, epoch and birth', async () => {
        nowMs += 500;
        const conversationState = encodeValue({ missing: ['email'] });
        await store.setRunStatus('r1', 1, 'stopped', {
          conversationState,
          leaseUntil: 0,
          input: encodeValue({ message: 'more' }),
          runId: 'hijack',
          epoch: 99,
          createdAt: 5,
        });
        const run = (await store.getRun('r1'))?.run;
        expect(run).toStrictEqual({
          ...makeRunRecord('r1', { error: { name: 'Error', message: 'old' } }),
          status: 'stopped',
          conversationState,
          leaseUntil: 0,
          input: encodeValue({ message: 'more' }),
          updatedAt: START_MS + 500,
        });
        expect(await store.getRun('hijack')).toBeUndefined();
      });

      it('clears error and conversationState given as undefined, and ignores other undefined fields', async () => {
        await store.setRunStatus('r1', 1, 'stopped', { conversationState: encodeValue(1) });
        await store.setRunStatus('r1', 1, 'running', { error: undefined, conversationState: undefined, owner: undefined });
        const run = (await store.getRun('r1'))!.run;
        expect(run.error).toBeUndefined();
        expect(run.conversationState).toBeUndefined();
        expect(run.owner).toBe('host:1:first');
        await store.setRunStatus('r1', 1, 'failed', { error: { name: 'StepExecutionError', code: 'fastroai:step-execution', message: 'new' } });
        expect((await store.getRun('r1'))!.run.error).toStrictEqual({ name: 'StepExecutionError', code: 'fastroai:step-execution', message: 'new' });
      });

      it('throws RunLeaseLostError for a stale epoch and changes nothing', async () => {
        nowMs += LEASE_MS + 1;
        await store.claimRun('r1', 'host:2:second', LEASE_MS);
        const error = await rejectionOf(store.setRunStatus('r1', 1, 'completed'));
        expect(RunLeaseLostError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ runId: 'r1', epoch: 1 });
        expect((await store.getRun('r1'))?.run.status).toBe('running');
      });

      it('rejects an unknown run with RunNotFoundError', async () => {
        expect(RunNotFoundError.isInstance(await rejectionOf(store.setRunStatus('missing', 1, 'completed')))).toBe(true);
      });
    });

    describe('addRunCost', () => {
      beforeEach(async () => {
        await store.createRun(makeRunRecord('r1', { costMicrocents: 5 }));
      });

      it('adds to the total and returns the total after adding', async () => {
        expect(await store.addRunCost('r1', 100)).toBe(105);
        expect(await store.addRunCost('r1', 0)).toBe(105);
        expect((await store.getRun('r1'))?.run.costMicrocents).toBe(105);
      });

      it('sums 50 concurrent adds exactly', async () => {
        const amounts = Array.from({ length: 50 }, (_, index) => 1_000_003 * (index + 1));
        const totals = await Promise.all(amounts.map((amount) => store.addRunCost('r1', amount)));
        const expected = 5 + amounts.reduce((sum, amount) => sum + amount, 0);
        expect((await store.getRun('r1'))?.run.costMicrocents).toBe(expected);
        expect(Math.max(...totals)).toBe(expected);
        expect(new Set(totals).size).toBe(50);
      });

      it('rejects an unknown run with RunNotFoundError', async () => {
        expect(RunNotFoundError.isInstance(await rejectionOf(store.addRunCost('missing', 1)))).toBe(true);
      });
    });

    describe('getRun', () => {
      it('answers undefined for an unknown run', async () => {
        expect(await store.getRun('missing')).toBeUndefined();
      });

      it('returns step records in the order they were recorded, across batches and generations (getRun and claimRun: a resume relies on it)', async () => {
        await store.createRun(makeRunRecord('r1'));
        await store.recordSteps('r1', 1, [makeStepRecord('zeta')]);
        await store.recordSteps('r1', 1, [makeStepRecord('alpha'), makeStepRecord('mid')]);
        await store.recordSteps('r1', 1, [makeStepRecord('zeta', 2), makeStepRecord('beta')]);
        const order = ['zeta#1', 'alpha#1', 'mid#1', 'zeta#2', 'beta#1'];
        expect((await store.getRun('r1'))?.steps.map((record) => `${record.stepId}#${record.generation}`)).toEqual(order);
        const claimed = await store.claimRun('r1', 'host:1:first', LEASE_MS);
        expect(claimed.steps.map((record) => `${record.stepId}#${record.generation}`)).toEqual(order);
      });

      it('keeps runs apart', async () => {
        await store.createRun(makeRunRecord('r1'));
        await store.createRun(makeRunRecord('r2'));
        await store.recordSteps('r1', 1, [makeStepRecord('a')]);
        expect((await store.getRun('r2'))?.steps).toEqual([]);
        expect(await store.recordSteps('r2', 1, [makeStepRecord('a')])).toEqual(['recorded']);
      });
    });

    describe('getStepRecord (optional)', () => {
      it('answers the record of (runId, stepId, generation) as getRun has it, or undefined', async () => {
        if (store.getStepRecord === undefined) return; // optional: this store is read with getRun
        await store.createRun(makeRunRecord('r1'));
        await store.createRun(makeRunRecord('r2'));
        await store.recordSteps('r1', 1, [makeStepRecord('a'), makeStepRecord('a', 2, { workerId: 'w7', attempts: 3 })]);
        await store.recordSteps('r2', 1, [makeStepRecord('b')]);
        const stored = (await store.getRun('r1'))!.steps;
        expect(await store.getStepRecord('r1', 'a', 2)).toEqual(stored[1]);
        expect(await store.getStepRecord('r1', 'a', 1)).toEqual(stored[0]);
        expect(await store.getStepRecord('r1', 'a', 3)).toBeUndefined();
        expect(await store.getStepRecord('r1', 'b', 1)).toBeUndefined();
        expect(await store.getStepRecord('missing', 'a', 1)).toBeUndefined();
      });

      it('answers the first write of a (stepId, generation): a later duplicate changes nothing; ids with a colon keep apart', async () => {
        if (store.getStepRecord === undefined) return;
        await store.createRun(makeRunRecord('r1'));
        await store.recordSteps('r1', 1, [makeStepRecord('a', 2, { attempts: 1 }), makeStepRecord('2:a', 1, { attempts: 5 })]);
        expect(await store.recordSteps('r1', 1, [makeStepRecord('a', 2, { attempts: 9 })])).toEqual(['duplicate']);
        expect(await store.getStepRecord('r1', 'a', 2)).toMatchObject({ stepId: 'a', generation: 2, attempts: 1 });
        expect(await store.getStepRecord('r1', '2:a', 1)).toMatchObject({ stepId: '2:a', generation: 1, attempts: 5 });
        expect(await store.getStepRecord('r1', 'a', 1)).toBeUndefined();
        // A copy: changing what it answered changes nothing stored.
        (await store.getStepRecord('r1', 'a', 2))!.attempts = 42;
        expect((await store.getStepRecord('r1', 'a', 2))!.attempts).toBe(1);
      });
    });

    describe('requestCancel and cancelRequested (optional; every store of this package has both)', () => {
      it('keeps a cancellation for the running run at its current epoch, replaced by a later one, and not reaching the epoch of a later claim', async () => {
        await store.createRun(makeRunRecord('r1'));
        await store.createRun(makeRunRecord('r2'));
        const before = (await store.getRun('r1'))!.run;
        expect(await store.requestCancel!('r1', 'stop, please')).toBe('requested');
        expect(await store.cancelRequested!('r1', 1)).toBe('stop, please');
        expect(await store.requestCancel!('r1', 'stop now')).toBe('requested');
        expect(await store.cancelRequested!('r1', 1)).toBe('stop now');
        expect(await store.cancelRequested!('r1', 2)).toBeUndefined();
        expect(await store.cancelRequested!('r2', 1)).toBeUndefined();
        // Not a field of the run: getRun answers the run as it was.
        expect((await store.getRun('r1'))!.run).toEqual(before);
        await store.claimRun('r1', 'host:1:first', LEASE_MS);
        expect(await store.cancelRequested!('r1', 2)).toBeUndefined();
      });

      it('keeps nothing for a run that is not running, and answers missing for an unknown run', async () => {
        await store.createRun(makeRunRecord('r1'));
        await store.setRunStatus('r1', 1, 'completed');
        expect(await store.requestCancel!('r1', 'too late')).toBe('not-running');
        expect(await store.cancelRequested!('r1', 1)).toBeUndefined();
        expect(await store.requestCancel!('missing', 'nobody')).toBe('missing');
        expect(await store.cancelRequested!('missing', 1)).toBeUndefined();
      });
    });

    describe('getStepRecords (internal, every store of this package)', () => {
      it('answers the records of many keys of one run in the order asked, as getRun has them, undefined where there is none', async () => {
        expect(readsStepRecords(store)).toBe(true);
        if (!readsStepRecords(store)) return;
        await store.createRun(makeRunRecord('r1'));
        await store.createRun(makeRunRecord('r2'));
        await store.recordSteps('r1', 1, [makeStepRecord('a'), makeStepRecord('a', 2, { workerId: 'w7', attempts: 3 }), makeStepRecord('c')]);
        await store.recordSteps('r2', 1, [makeStepRecord('b')]);
        const stored = (await store.getRun('r1'))!.steps;
        const keys = [
          { stepId: 'c', generation: 1 },
          { stepId: 'b', generation: 1 },
          { stepId: 'a', generation: 2 },
          { stepId: 'a', generation: 3 },
          { stepId: 'a', generation: 1 },
        ];
        expect(await store.getStepRecords('r1', keys)).toEqual([stored[2], undefined, stored[1], undefined, stored[0]]);
        expect(await store.getStepRecords('missing', keys)).toEqual([undefined, undefined, undefined, undefined, undefined]);
        expect(await store.getStepRecords('r1', [])).toEqual([]);
        // One key alone (a chain's step): a store may read it another way.
        expect(await store.getStepRecords('r1', [{ stepId: 'a', generation: 2 }])).toEqual([stored[1]]);
        expect(await store.getStepRecords('r1', [{ stepId: 'b', generation: 1 }])).toEqual([undefined]);
      });

      it('reads 1,600 keys (more than one Redis script takes) in the order asked', async () => {
        if (!readsStepRecords(store)) return;
        await store.createRun(makeRunRecord('wide'));
        const records = Array.from({ length: 1_500 }, (_, i) => makeStepRecord(`s${i}`));
        await store.recordSteps('wide', 1, records);
        const keys = Array.from({ length: 1_600 }, (_, i) => ({ stepId: `s${1_599 - i}`, generation: 1 }));
        const found = await store.getStepRecords('wide', keys);
        expect(found).toHaveLength(1_600);
        expect(found.slice(0, 100).every((record) => record === undefined)).toBe(true);
        expect(found.slice(100).map((record) => record?.stepId)).toEqual(keys.slice(100).map((key) => key.stepId));
      });
    });

    describe('listRuns', () => {
      const statuses: RunStatus[] = ['running', 'completed', 'failed', 'stopped', 'aborted'];

      /** 23 runs: some share a createdAt (ties break on runId), two pipelines, every status. */
      async function createMany(): Promise<RunRecord[]> {
        const runs = Array.from({ length: 23 }, (_, index) =>
          makeRunRecord(`run-${String(index).padStart(2, '0')}`, {
            createdAt: START_MS + Math.floor(index / 3) * 1000,
            pipeline: index % 2 === 0 ? 'booking' : 'support',
            status: statuses[index % statuses.length],
          }),
        );
        for (const run of [...runs].reverse()) await store.createRun(run);
        return runs;
      }

      function newestFirst(runs: RunRecord[]): string[] {
        return [...runs].sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1)).map((run) => run.runId);
      }

      it('lists runs newest first, ties by runId descending, with no cursor on the last page', async () => {
        const runs = await createMany();
        const page = await store.listRuns();
        expect(page.runs.map((run) => run.runId)).toEqual(newestFirst(runs));
        expect(page.runs[0]).toStrictEqual(runs[22]);
        expect(page.cursor).toBeUndefined();
      });

      it('breaks ties by runId bytewise in UTF-8 (code points), whatever the characters', async () => {
        const ids = ['b', 'B', 'a', '\uff41', '\u{1F600}', '\uff01', 'a:b', 'a b', '\u00e9', 'e'];
        for (const runId of ids) await store.createRun(makeRunRecord(runId));
        const bytewiseDescending = [...ids].sort((a, b) => Buffer.compare(Buffer.from(b), Buffer.from(a)));
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listRuns({ limit: 3, cursor });
          seen.push(...page.runs.map((run) => run.runId));
          cursor = page.cursor;
        } while (cursor !== undefined);
        expect(seen).toEqual(bytewiseDescending);
      });

      it('answers an empty page for an empty store', async () => {
        expect(await store.listRuns()).toEqual({ runs: [] });
      });

      it('filters by pipeline, by status, and by both', async () => {
        const runs = await createMany();
        expect((await store.listRuns({ pipeline: 'support' })).runs.map((run) => run.runId)).toEqual(
          newestFirst(runs.filter((run) => run.pipeline === 'support')),
        );
        expect((await store.listRuns({ status: 'failed' })).runs.map((run) => run.runId)).toEqual(
          newestFirst(runs.filter((run) => run.status === 'failed')),
        );
        const both = runs.filter((run) => run.pipeline === 'booking' && run.status === 'completed');
        expect(both.length).toBeGreaterThan(0);
        expect((await store.listRuns({ pipeline: 'booking', status: 'completed' })).runs.map((run) => run.runId)).toEqual(newestFirst(both));
        expect((await store.listRuns({ pipeline: 'nope' })).runs).toEqual([]);
      });

      it('refuses a status that is not a run status (it would match nothing) and a pipeline that is not a name', async () => {
        await expect(store.listRuns({ status: 'complete' as never })).rejects.toThrow(
          "Expected listRuns status to be one of running, completed, failed, stopped, aborted, got 'complete'",
        );
        await expect(store.listRuns({ pipeline: 5 as never })).rejects.toThrow(/Expected listRuns pipeline to be a pipeline name, got 5/);
      });

      it('pages with a cursor: pages of limit runs that cover every run exactly once, in order', async () => {
        const runs = await createMany();
        for (const limit of [1, 4, 22, 23]) {
          const seen: string[] = [];
          let cursor: string | undefined;
          let pages = 0;
          do {
            const page = await store.listRuns({ limit, cursor });
            pages++;
            expect(page.runs.length).toBeLessThanOrEqual(limit);
            if (page.cursor !== undefined) expect(page.runs).toHaveLength(limit);
            seen.push(...page.runs.map((run) => run.runId));
            cursor = page.cursor;
          } while (cursor !== undefined && pages < 100);
          expect(seen).toEqual(newestFirst(runs));
          expect(pages).toBe(Math.ceil(23 / limit));
        }
      });

      it('pages a filtered list, and sees a run created after the first page only if it sorts after the cursor', async () => {
        const runs = await createMany();
        const first = await store.listRuns({ pipeline: 'booking', limit: 5 });
        await store.createRun(makeRunRecord('run-newest', { createdAt: START_MS + 999_999, pipeline: 'booking' }));
        await store.createRun(makeRunRecord('run-oldest', { createdAt: START_MS - 1, pipeline: 'booking' }));
        const rest = await store.listRuns({ pipeline: 'booking', cursor: first.cursor, limit: 50 });
        expect([...first.runs, ...rest.runs].map((run) => run.runId)).toEqual([
          ...newestFirst(runs.filter((run) => run.pipeline === 'booking')),
          'run-oldest',
        ]);
      });

      it('filters by the status and pipeline a run has now, after setRunStatus changed them', async () => {
        await store.createRun(makeRunRecord('r1'));
        await store.createRun(makeRunRecord('r2', { createdAt: START_MS + 1 }));
        await store.setRunStatus('r1', 1, 'stopped', { pipeline: 'support' });
        expect((await store.listRuns({ status: 'running' })).runs.map((run) => run.runId)).toEqual(['r2']);
        expect((await store.listRuns({ status: 'stopped' })).runs.map((run) => run.runId)).toEqual(['r1']);
        expect((await store.listRuns({ pipeline: 'booking' })).runs.map((run) => run.runId)).toEqual(['r2']);
        expect((await store.listRuns({ pipeline: 'support', status: 'stopped' })).runs.map((run) => run.runId)).toEqual(['r1']);
        expect((await store.listRuns({ pipeline: 'booking', status: 'running' })).runs.map((run) => run.runId)).toEqual(['r2']);
      });

      it('returns 50 runs by default', async () => {
        for (let index = 0; index < 60; index++) {
          await store.createRun(makeRunRecord(`bulk-${String(index).padStart(2, '0')}`, { createdAt: START_MS + index }));
        }
        const first = await store.listRuns();
        expect(first.runs).toHaveLength(50);
        expect(first.runs[0].runId).toBe('bulk-59');
        const second = await store.listRuns({ cursor: first.cursor });
        expect(second.runs.map((run) => run.runId)).toEqual(Array.from({ length: 10 }, (_, index) => `bulk-${String(9 - index).padStart(2, '0')}`));
        expect(second.cursor).toBeUndefined();
      });
    });

    describe('close', () => {
      it('resolves, after the store has been used', async () => {
        await store.createRun(makeRunRecord('r1'));
        await expect(store.close()).resolves.toBeUndefined();
      });
    });
  });
}
