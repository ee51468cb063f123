/**
 * WorkerRunCache: a worker's view of the runs it runs steps of. The jobs of one run that a
 * worker takes together share one whole-run read, unless the read they would join was sent
 * before what they need was written.
 */
import { MemoryRunStore, RunNotFoundError, type RunStore } from 'fastroai';
import { WorkerRunCache } from '../../src/distributed/worker-run-cache';
import { makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { deferred, flush, type Deferred } from '../support/async-helpers';

/** A MemoryRunStore that counts `getRun` calls and answers each only when the test releases it. */
function gatedReads() {
  const inner = new MemoryRunStore();
  const gates: Deferred[] = [];
  let getRuns = 0;
  const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
    getRun: async (runId: string) => {
      getRuns++;
      const gate = deferred();
      gates.push(gate);
      // Read when asked (what the store held then), answered when released.
      const stored = await inner.getRun(runId);
      await gate.promise;
      return stored;
    },
  });
  return { inner, store, getRuns: () => getRuns, release: () => gates.shift()!.resolve() };
}

describe('WorkerRunCache', () => {
  it('reads a run once for the jobs that need it at the same time', async () => {
    const { inner, store, getRuns, release } = gatedReads();
    await inner.createRun(makeRunRecord('run-1'));
    const cache = new WorkerRunCache(store);
    const reads = [cache.read('run-1', 1, []), cache.read('run-1', 1, []), cache.read('run-1', 1, [])];
    await flush();
    release();
    const views = (await Promise.all(reads)).map(({ view }) => view);
    expect(getRuns()).toBe(1);
    expect(new Set(views).size).toBe(1);
    // Kept: a later job reads nothing.
    await cache.read('run-1', 1, []);
    expect(getRuns()).toBe(1);
  });

  it('reads again for a job that needs a record written after the shared read was sent', async () => {
    const { inner, store, getRuns, release } = gatedReads();
    await inner.createRun(makeRunRecord('run-2'));
    const cache = new WorkerRunCache(store);
    const first = cache.read('run-2', 1, []);
    await flush();
    await inner.recordSteps('run-2', 1, [makeStepRecord('extract')]);
    const second = cache.read('run-2', 1, ['extract']);
    release();
    await first;
    await flush();
    release();
    const { view } = await second;
    expect(getRuns()).toBe(2);
    expect(view.isCompleted('extract')).toBe(true);
  });

  it('after a resume, reads the run afresh for each job: a dependency rerun since an earlier read is seen at its new generation', async () => {
    const { inner, store, getRuns, release } = gatedReads();
    await inner.createRun(makeRunRecord('run-3'));
    await inner.recordSteps('run-3', 1, [makeStepRecord('x', 1, { output: '"x@1"' })]);
    const { epoch } = await inner.claimRun('run-3', 'resumer', 60_000); // a resume with rerun: ['x']
    const cache = new WorkerRunCache(store);
    // A read of the resumed run before x's new generation is written (another job's)...
    const before = cache.read('run-3', epoch, []);
    await flush();
    await inner.recordSteps('run-3', epoch, [makeStepRecord('x', 2, { output: '"x@2"' })]);
    // ...must serve neither a job that needs x now (while in flight) nor one after it (kept).
    const xAt2 = (id: string) => (id === 'x' ? 2 : 1);
    const during = cache.read('run-3', epoch, ['x'], xAt2);
    await flush();
    release();
    await before;
    await flush();
    release();
    expect((await during).view.outputOf('x', 2)).toBe('x@2');
    const after = cache.read('run-3', epoch, ['x'], xAt2);
    await flush();
    release();
    expect((await after).view.outputOf('x', 2)).toBe('x@2');
    expect(getRuns()).toBe(3);
  });

  it('rejects every job sharing the read of a run the store does not hold, naming the store', async () => {
    const { store, release } = gatedReads();
    const cache = new WorkerRunCache(store);
    const reads = [cache.read('missing', 1, []), cache.read('missing', 1, [])];
    await flush();
    release();
    for (const read of reads) await expect(read).rejects.toBeInstanceOf(RunNotFoundError);
    // Not kept: the next job reads again.
    const again = cache.read('missing', 1, []);
    await flush();
    release();
    await expect(again).rejects.toThrow(/memory/);
  });
});

