import { IN_PROCESS_RUNNER, MemoryRunStore, runStepTask, Pipeline, StepConfig, StepExecutionError, StepTimeoutError, step, type PipelineEvent, type StepContext } from 'fastroai';
import { createVirtualClock, type VirtualClock } from 'fastroai/testing';
import { flush, rejectionOf } from '../support/async-helpers';

const START = 1_000_000_000_000; // 2001: far from the real clock, so a real time in a record shows

/** Lets the run go as far as it can without time moving (its promises and the store's). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flush();
}

/** A step that fails its first attempt and completes the next. */
function failsOnce(output: string) {
  let calls = 0;
  return step(() => {
    calls += 1;
    if (calls === 1) throw new Error('flaky');
    return output;
  });
}

/** A store whose lease renewals are counted (the real MemoryRunStore underneath). */
class CountingRenewals extends MemoryRunStore {
  renewals = 0;
  override renewLease(runId: string, owner: string, epoch: number, leaseMs: number): Promise<boolean> {
    this.renewals += 1;
    return super.renewLease(runId, owner, epoch, leaseMs);
  }
}

describe('a run on a virtual clock (the clock option)', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = createVirtualClock({ startAt: START });
  });

  it("fires a step's timeout when virtual time reaches it, not in real time", async () => {
    const pipeline = new Pipeline({
      name: 'timeout',
      steps: { slow: step((ctx: StepContext) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))) },
      stepConfigs: { slow: new StepConfig({ timeout: 30 }) },
    });
    let settled = false;
    const running = pipeline.execute({}, undefined, { clock });
    running.then(() => (settled = true), () => (settled = true));
    await clock.whenTimersPending();
    clock.advance(29_999);
    await settle();
    expect(settled).toBe(false);
    clock.advance(1);
    const error = await rejectionOf(running);
    expect(error).toBeInstanceOf(StepExecutionError);
    expect((error as StepExecutionError).cause).toBeInstanceOf(StepTimeoutError);
    expect(clock.pendingTimers).toBe(0);
  });

  it("starts a recorded step's dependent when its record was acknowledged, not when the step ended", async () => {
    const clock = createVirtualClock({ startAt: START });
    // A store that takes 10 ms of virtual time to write each batch.
    const inner = new MemoryRunStore({ now: () => clock.now() });
    const store = Object.assign(Object.create(inner) as MemoryRunStore, {
      recordSteps: (runId: string, epoch: number, records: Parameters<MemoryRunStore['recordSteps']>[2]) => {
        clock.advance(10);
        return inner.recordSteps(runId, epoch, records);
      },
    });
    const pipeline = new Pipeline({ name: 'slow-store', steps: { a: step(() => (clock.advance(5), 'a')), b: step(() => 'b') }, dependencies: { b: ['a'] } });
    const { timings } = await pipeline.execute({}, undefined, { clock, store });
    expect(timings.a.endMs - timings.a.startMs).toBe(5);
    expect(timings.b.startMs).toBe(timings.a.endMs + 10);
    expect(timings.b.endMs).toBe(timings.b.startMs);
  });

  it('waits a retry backoff in virtual time, and times the step on it', async () => {
    const events: PipelineEvent[] = [];
    const pipeline = new Pipeline({ name: 'retry', steps: { flaky: failsOnce('done') }, stepConfigs: { flaky: new StepConfig({ retries: 1, retryDelay: 10 }) } });
    const running = pipeline.execute({}, undefined, { clock, onEvent: (event) => events.push(event) });
    await clock.whenTimersPending();
    expect(events.filter((event) => event.type === 'step.retrying')).toMatchObject([{ stepId: 'flaky', attempt: 1, delaySeconds: 10 }]);
    clock.advance(9_999);
    await settle();
    expect(events.filter((event) => event.type === 'step.started')).toHaveLength(1);
    clock.advance(1);
    const result = await running;
    expect(result.output).toBe('done');
    expect(result.timings.flaky).toEqual({ startMs: 0, endMs: 10_000, attempts: 2 });
  });

  it('records steps and the run with the virtual wall-clock times', async () => {
    const store = new MemoryRunStore({ now: () => clock.now() });
    const pipeline = new Pipeline({
      name: 'recorded',
      steps: { first: step(() => 'a'), second: failsOnce('b') },
      dependencies: { second: ['first'] },
      stepConfigs: { second: new StepConfig({ retries: 1, retryDelay: 2 }) },
      store,
    });
    const running = pipeline.execute({}, undefined, { clock, runId: 'virtual-1' });
    await clock.whenTimersPending(2); // the lease renewal, the backoff
    clock.advance(2_000);
    await running;
    const recorded = (await store.getRun('virtual-1'))!;
    expect(recorded.run).toMatchObject({ createdAt: START, status: 'completed', updatedAt: START + 2_000 });
    expect(recorded.steps.map(({ stepId, startedAt, endedAt, attempts }) => ({ stepId, startedAt, endedAt, attempts }))).toEqual([
      { stepId: 'first', startedAt: START, endedAt: START, attempts: 1 },
      { stepId: 'second', startedAt: START, endedAt: START + 2_000, attempts: 2 },
    ]);
  });

  it("renews the run's lease on the virtual clock", async () => {
    const store = new CountingRenewals({ now: () => clock.now() });
    const pipeline = new Pipeline({
      name: 'lease',
      steps: { slow: step((ctx: StepContext) => new Promise<string>((resolve) => ctx.signal.addEventListener('abort', () => resolve('late')))) },
      stepConfigs: { slow: new StepConfig({ timeout: 60 }) },
      store,
    });
    const running = pipeline.execute({}, undefined, { clock, leaseSeconds: 3, runId: 'lease-1' });
    await clock.whenTimersPending(2); // the lease renewal, the step's timeout
    await settle();
    expect(store.renewals).toBe(0);
    clock.advance(1_000); // a third of the lease
    await settle();
    expect(store.renewals).toBe(1);
    expect((await store.getRun('lease-1'))!.run.leaseUntil).toBe(START + 1_000 + 3_000);
    // A second at a time, the store answering in between (a renewal still unanswered when the
    // lease runs out stops the run: one advance of 60 s would give it no chance to answer).
    for (let second = 2; second < 60; second++) {
      clock.advance(1_000);
      await settle();
    }
    expect(store.renewals).toBe(59);
    clock.advance(1_000);
    const error = await rejectionOf(running);
    expect((error as StepExecutionError).cause).toBeInstanceOf(StepTimeoutError);
  });

  it('resumes on the virtual clock: its backoffs wait virtual time, its records carry its times', async () => {
    const store = new MemoryRunStore({ now: () => clock.now() });
    let failuresLeft = 2;
    const pipeline = new Pipeline({
      name: 'resumed',
      steps: {
        first: step(() => 'a'),
        second: step(() => {
          if (failuresLeft-- > 0) throw new Error('down');
          return 'b';
        }),
      },
      dependencies: { second: ['first'] },
      stepConfigs: { second: new StepConfig({ retries: 1, retryDelay: 5 }) },
      store,
    });
    const failing = pipeline.execute({}, undefined, { clock, runId: 'resume-1' });
    await clock.whenTimersPending(2); // the lease renewal, the backoff
    clock.advance(5_000);
    await expect(failing).rejects.toThrow(StepExecutionError);
    clock.advance(60_000);
    failuresLeft = 1;
    const resumed = pipeline.resume('resume-1', { clock });
    await clock.whenTimersPending(2);
    clock.advance(5_000);
    expect((await resumed).output).toBe('b');
    const second = (await store.getRun('resume-1'))!.steps.filter((record) => record.stepId === 'second');
    expect(second.map(({ status, startedAt, endedAt }) => ({ status, startedAt, endedAt }))).toEqual([
      { status: 'failed', startedAt: START, endedAt: START + 5_000 },
      { status: 'completed', startedAt: START + 65_000, endedAt: START + 70_000 },
    ]);
  });

  it("gives a runner's step task the run's clock: its backoff waits virtual time, its outcome has virtual times", async () => {
    const pipeline = new Pipeline({ name: 'runner', steps: { flaky: failsOnce('done') }, stepConfigs: { flaky: new StepConfig({ retries: 1, retryDelay: 3 }) } });
    const running = pipeline.execute({}, undefined, { clock, runner: IN_PROCESS_RUNNER });
    await clock.whenTimersPending();
    clock.advance(3_000);
    expect((await running).output).toBe('done');

    const outcome = runStepTask({
      runId: 'r',
      stepId: 'flaky',
      step: failsOnce('again'),
      config: new StepConfig({ retries: 1, retryDelay: 4 }),
      inputs: {},
      dependencyOutputs: {},
      deps: undefined,
      clock,
    });
    await clock.whenTimersPending();
    clock.advance(4_000);
    expect(await outcome).toMatchObject({ status: 'completed', output: 'again', attempts: 2, startedAt: START + 3_000, endedAt: START + 7_000 });
  });

  it('refuses a clock option that is not a Clock, naming it', async () => {
    const pipeline = new Pipeline({ name: 'bad', steps: { only: step(() => 1) } });
    await expect(pipeline.execute({}, undefined, { clock: { now: () => 0 } as never })).rejects.toThrow(/execute\(\) options\.clock must be a Clock/);
    await expect(pipeline.resume('r', { clock: 5 as never, store: new MemoryRunStore() })).rejects.toThrow(/resume\(\) options\.clock must be a Clock/);
  });
});
