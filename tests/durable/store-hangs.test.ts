/**
 * A store that stops answering (a user's own store without timeouts of its own): the run ends
 * with StoreUnavailableError instead of waiting for ever, whichever call hangs. On virtual time:
 * a run's lease is 30 s, its keeper checks every 10 s.
 */
import { MemoryRunStore, Pipeline, PipelineAbortedError, StoreUnavailableError, step, type RunStore, type StepContext } from 'fastroai';
import { createVirtualClock, type VirtualClock } from 'fastroai/testing';
import { deferred, flush, rejectionOf } from '../support/async-helpers';

const never = () => new Promise<never>(() => undefined);

type HangingMethod = 'recordSteps' | 'renewLease' | 'createRun';

/** A MemoryRunStore whose `methods` never answer. */
function hangingStore(...methods: HangingMethod[]): RunStore {
  const inner = new MemoryRunStore();
  return Object.assign(Object.create(inner) as RunStore, Object.fromEntries(methods.map((method) => [method, never])));
}

/** Lets the run go as far as it can without time moving. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flush();
}

/** Moves virtual time on by `seconds`, ten at a time, letting the run go on in between; resolves with whether `settled` settled. */
async function advance(clock: VirtualClock, seconds: number, settled: () => boolean): Promise<boolean> {
  for (let passed = 0; passed < seconds; passed += 10) {
    clock.advance(10_000);
    await settle();
  }
  return settled();
}

/** Runs `steps` on `store` and the virtual clock; resolves once the first step started. */
async function startRun(store: RunStore, clock: VirtualClock, steps: Record<string, ReturnType<typeof step>>, dependencies?: Record<string, string[]>) {
  const started = deferred();
  const first = Object.keys(steps)[0];
  const pipeline = new Pipeline({
    name: 'p',
    steps: { [first]: step((ctx: StepContext) => (started.resolve(), steps[first].execute(ctx))), ...Object.fromEntries(Object.entries(steps).slice(1)) },
    dependencies,
    outputStep: Object.keys(steps).at(-1),
  });
  let done = false;
  const running = rejectionOf(pipeline.execute({}, undefined, { store, clock })).finally(() => (done = true));
  await started.promise;
  return { running, settled: () => done };
}

/** A step that runs until its signal aborts, noting it. */
function untilAborted(noted: { aborted: boolean }) {
  return step((ctx: StepContext) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve((noted.aborted = true)))));
}

describe('a store that stops answering', () => {
  it('a batch of records with no answer within 60 s ends the run with StoreUnavailableError', async () => {
    const clock = createVirtualClock();
    const { running, settled } = await startRun(hangingStore('recordSteps'), clock, { a: step(() => 1), b: step(() => 2) }, { b: ['a'] });
    expect(await advance(clock, 60, settled)).toBe(false); // seen in flight at 10 s: given up 60 s later
    expect(await advance(clock, 10, settled)).toBe(true);
    const error = await running;
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/recordSteps had no answer within 60 s/);
  });

  it('a lease renewal still unanswered when the lease runs out stops the run at once (its steps abort) and rejects it within 60 s more', async () => {
    const clock = createVirtualClock();
    const noted = { aborted: false };
    const { running, settled } = await startRun(hangingStore('renewLease'), clock, { a: untilAborted(noted) });
    await advance(clock, 20, settled); // the renewal went out at 10 s
    expect(noted.aborted).toBe(false);
    await advance(clock, 10, settled); // the lease ran out at 30 s: no other process may claim the run while its steps still run
    expect(noted.aborted).toBe(true);
    expect(await advance(clock, 50, settled)).toBe(false); // its end waits for that renewal's answer (a late renewal must not land after it)...
    expect(await advance(clock, 10, settled)).toBe(true); // ...for 60 s at most
    const error = await running;
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/the lease had no answer to its renewal before it ran out \(30 s\)/);
  });

  it('a whole store that hangs (records and renewals) ends the run the same way', async () => {
    const clock = createVirtualClock();
    const noted = { aborted: false };
    const { running, settled } = await startRun(hangingStore('recordSteps', 'renewLease'), clock, { a: step(() => 1), b: untilAborted(noted) });
    await advance(clock, 30, settled);
    expect(noted.aborted).toBe(true);
    expect(await advance(clock, 60, settled)).toBe(true);
    expect(StoreUnavailableError.isInstance(await running)).toBe(true);
  });

  it('a run ending (cancelled) while its last batch of records hangs, and its renewal too, still settles', async () => {
    const clock = createVirtualClock();
    const noted = { aborted: false };
    const controller = new AbortController();
    const started = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step(() => (started.resolve(), 1)),
        b: step((ctx: StepContext) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve((noted.aborted = true))))),
      },
      outputStep: 'b',
    });
    let done = false;
    const running = rejectionOf(pipeline.execute({}, undefined, { store: hangingStore('recordSteps', 'renewLease'), clock, signal: controller.signal })).finally(() => (done = true));
    await started.promise;
    await settle(); // a's record is in flight, for ever
    controller.abort(); // the run ends: it drains that batch before its final status
    await settle();
    expect(noted.aborted).toBe(true);
    expect(await advance(clock, 30, () => done)).toBe(false); // the lease runs out at 30 s: the batch is given up...
    expect(await advance(clock, 60, () => done)).toBe(true); // ...and the run rejects once the renewal in flight is given up too
    expect(PipelineAbortedError.isInstance(await running)).toBe(true);
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
