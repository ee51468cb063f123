/**
 * A store that stops answering (a user's own store without timeouts of its own): the run ends
 * with StoreUnavailableError instead of waiting for ever, whichever call hangs.
 */
import { MemoryRunStore, Pipeline, StoreUnavailableError, step, type RunStore, type StepContext } from 'fastroai';
import { createVirtualClock } from 'fastroai/testing';
import { deferred, flush, rejectionOf } from '../support/async-helpers';

/** Lets the run go as far as it can without time moving. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flush();
}

const never = () => new Promise<never>(() => undefined);

/** A MemoryRunStore whose `method` never answers (from its `after`-th call on). */
function hangingStore(method: 'recordSteps' | 'renewLease' | 'createRun', after = 0): RunStore {
  const inner = new MemoryRunStore();
  let calls = 0;
  return Object.assign(Object.create(inner) as RunStore, {
    [method]: (...args: unknown[]) => (calls++ >= after ? never() : (inner[method] as (...a: unknown[]) => Promise<unknown>).apply(inner, args)),
  });
}

describe('a store that stops answering', () => {
  it('a batch of records with no answer for a whole lease ends the run with StoreUnavailableError', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    const error = await rejectionOf(pipeline.execute({}, undefined, { store: hangingStore('recordSteps'), leaseSeconds: 0.3 }));
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/recordSteps had no answer for 0\.3 s/);
  });

  it('a lease renewal with no answer within 60 s ends the run with StoreUnavailableError, its step aborted', async () => {
    const clock = createVirtualClock();
    let aborted = false;
    const started = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step((ctx: StepContext) => {
          started.resolve();
          return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve((aborted = true))));
        }),
      },
    });
    const running = rejectionOf(pipeline.execute({}, undefined, { store: hangingStore('renewLease'), clock }));
    await started.promise; // the lease keeper checks every third of the 30 s lease from now on
    for (let seconds = 10; seconds <= 60; seconds += 10) {
      clock.advance(10_000); // the renewal goes out at 10 s, and has had no answer for 60 s at 70 s
      await settle();
    }
    expect(aborted).toBe(false);
    clock.advance(10_000);
    const error = await running;
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/the lease renewal had no answer within 60 s/);
    expect(aborted).toBe(true);
  });

  it('any other store call with no answer within 60 s fails the run (creating it, here)', async () => {
    const clock = createVirtualClock();
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1) } });
    const running = rejectionOf(pipeline.execute({}, undefined, { store: hangingStore('createRun'), clock }));
    await clock.whenTimersPending(1);
    clock.advance(60_000);
    const error = await running;
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/no answer within 60 s/);
  });
});
