import { MemoryRunStore, type RecordOutcome, type RunStore, type StepRecord } from 'fastroai';
import { RecordBatcher } from '../../src/durable/record-batcher';
import { makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { deferred, flush, type Deferred } from '../support/async-helpers';

/** A MemoryRunStore whose `recordSteps` answers only when the test releases it, one batch at a time. */
function gatedStore() {
  const inner = new MemoryRunStore();
  const batches: string[][] = [];
  const gates: Deferred[] = [];
  const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
    recordSteps: async (runId: string, epoch: number, records: StepRecord[]) => {
      batches.push(records.map((record) => record.stepId));
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      return inner.recordSteps(runId, epoch, records);
    },
  });
  return { inner, store, batches, release: () => gates.shift()!.resolve() };
}

describe('RecordBatcher', () => {
  it('reports each record\'s outcome to its own step, batch after batch', async () => {
    const { inner, store, batches, release } = gatedStore();
    await inner.createRun(makeRunRecord('run-1'));
    const reported: Array<[number, RecordOutcome, string]> = [];
    const batcher = new RecordBatcher(store, 'run-1', 1, {
      recorded: (index, outcome, record) => reported.push([index, outcome, record.stepId]),
      storeFailed: (error) => {
        throw error;
      },
    });

    batcher.add(0, makeStepRecord('a'));
    await flush();
    // Added while the first batch is in flight: they go in the next one, together.
    batcher.add(1, makeStepRecord('b'));
    batcher.add(2, makeStepRecord('c'));
    release();
    await flush();
    batcher.add(3, makeStepRecord('d'));
    batcher.add(4, makeStepRecord('a')); // the same (stepId, generation) again: refused
    release();
    await flush();
    release();
    await flush();

    expect(batches).toEqual([['a'], ['b', 'c'], ['d', 'a']]);
    expect(reported).toEqual([
      [0, 'recorded', 'a'],
      [1, 'recorded', 'b'],
      [2, 'recorded', 'c'],
      [3, 'recorded', 'd'],
      [4, 'duplicate', 'a'],
    ]);
  });

  it('sends a record at once when every running step waits for its record, else a microtask later with the others', async () => {
    const { inner, store, batches, release } = gatedStore();
    await inner.createRun(makeRunRecord('run-3'));
    let running = 1;
    const batcher = new RecordBatcher(store, 'run-3', 1, { recorded: () => undefined, storeFailed: () => undefined, runningSteps: () => running });
    // One running step (a chain): nothing else can end in this tick, so no microtask to wait for.
    batcher.add(0, makeStepRecord('a'));
    expect(batches).toEqual([['a']]);
    release();
    await flush();
    // Three running steps: the two others may still end in this tick and join the batch.
    running = 3;
    batcher.add(1, makeStepRecord('b'));
    batcher.add(2, makeStepRecord('c'));
    expect(batches).toEqual([['a']]);
    batcher.add(3, makeStepRecord('d'));
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    release();
    await flush();
  });

  it('hands the store each batch in an array of its own, untouched by later batches', async () => {
    const inner = new MemoryRunStore();
    await inner.createRun(makeRunRecord('run-4'));
    const handed: StepRecord[][] = [];
    const gates: Deferred[] = [];
    const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
      recordSteps: async (runId: string, epoch: number, records: StepRecord[]) => {
        handed.push(records);
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        return inner.recordSteps(runId, epoch, records);
      },
    });
    const reported: Array<[number, string]> = [];
    const batcher = new RecordBatcher(store, 'run-4', 1, { recorded: (index, _, record) => reported.push([index, record.stepId]), storeFailed: () => undefined });
    batcher.add(0, makeStepRecord('a'));
    batcher.add(1, makeStepRecord('b'));
    batcher.add(2, makeStepRecord('c'));
    await flush();
    batcher.add(3, makeStepRecord('d'));
    gates.shift()!.resolve();
    await flush();
    batcher.add(4, makeStepRecord('e'));
    gates.shift()!.resolve();
    await flush();
    gates.shift()!.resolve();
    await flush();

    expect(handed.map((batch) => batch.map((record) => record.stepId))).toEqual([['a', 'b', 'c'], ['d'], ['e']]);
    expect(new Set(handed).size).toBe(3);
    expect(reported).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
      [4, 'e'],
    ]);
  });

  it('sends nothing more once stopped while the sink hears a batch; the batch in flight is still written', async () => {
    const { inner, store, batches, release } = gatedStore();
    await inner.createRun(makeRunRecord('run-5'));
    const batcher: RecordBatcher = new RecordBatcher(store, 'run-5', 1, {
      // Hearing the first record, the run admits a step whose record comes at once, then ends.
      recorded: (index) => {
        if (index !== 0) return;
        batcher.add(1, makeStepRecord('next'));
        batcher.stop();
      },
      storeFailed: () => undefined,
    });
    batcher.add(0, makeStepRecord('first'));
    await flush();
    release();
    await flush();
    expect(batches).toEqual([['first']]);
    expect((await inner.getRun('run-5'))?.steps.map((record) => record.stepId)).toEqual(['first']);
  });

  it('reports nothing once stopped; the batch in flight is still written', async () => {
    const { inner, store, release } = gatedStore();
    await inner.createRun(makeRunRecord('run-2'));
    const reported: number[] = [];
    const batcher = new RecordBatcher(store, 'run-2', 1, { recorded: (index) => reported.push(index), storeFailed: () => undefined });
    batcher.add(7, makeStepRecord('x'));
    await flush();
    batcher.stop();
    release();
    await flush();
    expect(reported).toEqual([]);
    expect((await inner.getRun('run-2'))?.steps.map((record) => record.stepId)).toEqual(['x']);
  });

  it('drain: writes the batch in flight, then what is pending, reporting nothing; resolves once both are in the store', async () => {
    const { inner, store, batches, release } = gatedStore();
    await inner.createRun(makeRunRecord('run-6'));
    const reported: number[] = [];
    const batcher = new RecordBatcher(store, 'run-6', 1, { recorded: (index) => reported.push(index), storeFailed: () => undefined });
    batcher.add(0, makeStepRecord('a'));
    await flush();
    batcher.add(1, makeStepRecord('b')); // finished while 'a' is in flight: pending
    let drained = false;
    const draining = batcher.drain().then(() => (drained = true));
    await flush();
    expect(drained).toBe(false);
    release(); // 'a' answered: 'b' goes
    await flush();
    expect(batches).toEqual([['a'], ['b']]);
    expect(drained).toBe(false);
    release();
    await draining;
    expect((await inner.getRun('run-6'))?.steps.map((record) => record.stepId)).toEqual(['a', 'b']);
    expect(reported).toEqual([]);
    // Drained: nothing is sent after (it would race the run's final status).
    batcher.add(2, makeStepRecord('late'));
    await flush();
    expect(batches).toEqual([['a'], ['b']]);
  });

  it('drain: resolves when the store fails for good, dropping what is pending, and tells the sink nothing', async () => {
    const failures: unknown[] = [];
    const store = new MemoryRunStore();
    await store.createRun(makeRunRecord('run-7'));
    const failing: RunStore = Object.assign(Object.create(store) as RunStore, {
      name: 'failing',
      recordSteps: async () => {
        throw new Error('store is down');
      },
    });
    const batcher = new RecordBatcher(failing, 'run-7', 1, { recorded: () => undefined, storeFailed: (error) => failures.push(error) });
    batcher.add(0, makeStepRecord('a'));
    batcher.add(1, makeStepRecord('b'));
    await batcher.drain();
    expect(failures).toEqual([]);
    expect((await store.getRun('run-7'))?.steps).toEqual([]);
  });
});
