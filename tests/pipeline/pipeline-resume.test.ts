import {
  BaseStep,
  ConversationState,
  ConversationStatus,
  MemoryRunStore,
  OutputNotStorableError,
  Pipeline,
  PipelineAbortedError,
  PipelineConfig,
  PipelineValidationError,
  RunExistsError,
  RunLeaseLostError,
  RunLockedError,
  RunNotFoundError,
  Step,
  StepExecutionError,
  StepUsage,
  StoreUnavailableError,
  runStepTask,
  step,
  type PipelineEvent,
  type StepOutcome,
  type StepTask,
  type RunStore,
  type StepContext,
  type StepRecord,
} from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { container as rootContainer } from 'tsyringe';
import { deferred, flush, rejectionOf, sleep, thrownBy } from '../support/async-helpers';

/** Counts how often each step body ran. */
function ledger() {
  const runs: Record<string, number> = {};
  const count = (id: string) => {
    runs[id] = (runs[id] ?? 0) + 1;
  };
  return { runs, count };
}

/**
 * The booking conversation: extract and classify are agent calls (paid), gather returns
 * INCOMPLETE until the input has every field, book depends on gather.
 */
function bookingPipeline(store: RunStore, count: (id: string) => void) {
  const agent = createMockAgent([{ output: 'parsed', costMicrocents: 1_000, inputTokens: 10, outputTokens: 2 }]);
  return new Pipeline({
    name: 'booking',
    store,
    steps: {
      extract: step(async (ctx: StepContext) => {
        count('extract');
        return (await ctx.run(agent, 'extract')).output;
      }),
      classify: step(async (ctx: StepContext) => {
        count('classify');
        return { kind: 'hotel', via: (await ctx.run(agent, 'classify')).output };
      }),
      gather: step((ctx: StepContext) => {
        count('gather');
        const fields = { city: ctx.getInput<string | undefined>('city'), nights: ctx.getInput<number | undefined>('nights') };
        const missing = Object.entries(fields).filter(([, value]) => value === undefined).map(([key]) => key);
        if (missing.length > 0) return new ConversationState({ status: ConversationStatus.INCOMPLETE, data: fields, context: { missing } });
        return fields;
      }),
      book: step((ctx: StepContext) => {
        count('book');
        const { city, nights } = ctx.getDependency<{ city: string; nights: number }>('gather');
        return `${ctx.getDependency<{ kind: string }>('classify').kind} in ${city} for ${nights} nights`;
      }),
    },
    dependencies: { classify: ['extract'], gather: ['classify'], book: ['gather'] },
  });
}

/** A MemoryRunStore (`inner`) whose first `recordSteps` is held in flight until `held` resolves. */
function firstBatchHeld() {
  const inner = new MemoryRunStore();
  const held = deferred();
  let batches = 0;
  const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
    recordSteps: async (runId: string, epoch: number, records: StepRecord[]) => {
      if (++batches === 1) await held.promise;
      return inner.recordSteps(runId, epoch, records);
    },
  });
  return { inner, store, held };
}

/** A pipeline whose step `flaky` fails under onError 'continue' (its runs complete), `ok` its output; `runs` counts executions. */
function withFailingStep(store: RunStore) {
  const { runs, count } = ledger();
  const pipeline = new Pipeline({
    name: 'with-failing-step',
    store,
    config: new PipelineConfig({ onError: 'continue' }),
    steps: {
      ok: step(() => (count('ok'), 'ok')),
      flaky: step(() => {
        count('flaky');
        throw new Error('flaky');
      }),
    },
    outputStep: 'ok',
  });
  return { pipeline, runs };
}

/**
 * A completed run (its step `flaky` failed under onError 'continue') whose resume was cancelled
 * before it started while the store refused every final status write: the claim set it running,
 * the put-back failed. The store answers again when this returns.
 */
async function putBackFailedWorld(clock?: { now: number }) {
  const inner = new MemoryRunStore(clock === undefined ? {} : { now: () => clock.now });
  let failEnds = false;
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== 'setRunStatus') return typeof value === 'function' ? value.bind(target) : value;
      return (runId: string, epoch: number, status: string, fields: object) =>
        failEnds && status !== 'running' ? Promise.reject(new Error('connection reset')) : target.setRunStatus(runId, epoch, status as never, fields);
    },
  });
  const { pipeline, runs } = withFailingStep(store);
  const { runId } = await pipeline.execute({});
  failEnds = true;
  const controller = new AbortController();
  const resumed = pipeline.resume(runId, { signal: controller.signal, leaseSeconds: 1 });
  controller.abort();
  expect(PipelineAbortedError.isInstance(await rejectionOf(resumed))).toBe(true);
  failEnds = false;
  return { inner, pipeline, runs, runId };
}

describe('durable runs: record and resume (MemoryRunStore)', () => {
  it('a multi-turn conversation pays for its expensive steps once', async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    const pipeline = bookingPipeline(store, count);

    const turn1 = await pipeline.execute({ message: 'a hotel please' });
    expect(turn1.stoppedEarly).toBe(true);
    expect(turn1.conversationState?.context).toEqual({ missing: ['city', 'nights'] });
    expect(turn1.usage?.totalCostMicrocents).toBe(2_000);
    expect((await store.getRun(turn1.runId))?.run.status).toBe('stopped');

    const turn2 = await pipeline.resume(turn1.runId, { input: { city: 'Lisbon' } });
    expect(turn2.stoppedEarly).toBe(true);
    expect(turn2.conversationState?.context).toEqual({ missing: ['nights'] });

    const events: PipelineEvent[] = [];
    const turn3 = await pipeline.resume(turn1.runId, { input: { nights: 3 }, onEvent: (event) => events.push(event) });
    expect(turn3.runId).toBe(turn1.runId);
    expect(turn3.output).toBe('hotel in Lisbon for 3 nights');
    expect(runs).toEqual({ extract: 1, classify: 1, gather: 3, book: 1 });
    // Usage counts every recorded step once: the two paid calls, not six.
    expect(turn3.usage?.totalCostMicrocents).toBe(2_000);
    expect(turn3.usage?.totalRequestCount).toBe(2);
    expect(turn3.stepOutputs).toMatchObject({ extract: 'parsed', classify: { kind: 'hotel' } });
    // Restored steps are announced right after pipeline.started, in declaration order, with restored: true.
    expect(events.slice(0, 3).map((event) => [event.type, 'stepId' in event ? event.stepId : undefined, 'restored' in event ? event.restored : undefined])).toEqual([
      ['pipeline.started', undefined, undefined],
      ['step.completed', 'extract', true],
      ['step.completed', 'classify', true],
    ]);
    expect((await store.getRun(turn1.runId))?.run.status).toBe('completed');
  });

  it('records each step before its dependents start and before step.completed', async () => {
    const inner = new MemoryRunStore();
    const recordedBefore: string[] = [];
    let seenRecords = 0;
    const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
      recordSteps: async (runId: string, epoch: number, records: Parameters<RunStore['recordSteps']>[2]) => {
        await sleep(2);
        seenRecords += records.length;
        return inner.recordSteps(runId, epoch, records);
      },
    });
    const pipeline = new Pipeline({
      name: 'chain',
      steps: {
        a: step(() => 1),
        b: step(() => {
          recordedBefore.push(`b saw ${seenRecords}`);
          return 2;
        }),
      },
      dependencies: { b: ['a'] },
    });
    const events: string[] = [];
    await pipeline.execute({}, undefined, {
      store,
      onEvent: (event) => {
        if (event.type === 'step.completed') events.push(`${event.stepId} completed after ${seenRecords} records`);
      },
    });
    expect(recordedBefore).toEqual(['b saw 1']);
    expect(events).toEqual(['a completed after 1 records', 'b completed after 2 records']);
  });

  it('writes the records of steps that end in the same tick in one batch', async () => {
    const inner = new MemoryRunStore();
    const batches: number[] = [];
    const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
      recordSteps: (runId: string, epoch: number, records: Parameters<RunStore['recordSteps']>[2]) => {
        batches.push(records.length);
        return inner.recordSteps(runId, epoch, records);
      },
    });
    const steps: Record<string, ReturnType<typeof step>> = { root: step(() => 0) };
    const dependencies: Record<string, string[]> = {};
    for (let i = 0; i < 100; i++) {
      steps[`s${i}`] = step(() => i);
      dependencies[`s${i}`] = ['root'];
    }
    steps.join = step(() => 'done');
    dependencies.join = Object.keys(steps).filter((id) => id.startsWith('s'));
    const result = await new Pipeline({ name: 'fan', steps, dependencies }).execute({}, undefined, { store });
    expect(result.output).toBe('done');
    expect(batches).toEqual([1, 100, 1]);
  });

  it('writes in one batch the records of steps whose callbacks run in the same turn of the event loop', async () => {
    const inner = new MemoryRunStore();
    const batches: string[][] = [];
    const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
      recordSteps: (runId: string, epoch: number, records: Parameters<RunStore['recordSteps']>[2]) => {
        batches.push(records.map((record) => record.stepId));
        return inner.recordSteps(runId, epoch, records);
      },
    });
    // Four callbacks of one phase (immediates queued in the same turn): Node runs each (and its
    // microtasks) in turn, as it does timers due together. Timers would make this flaky: each
    // setTimeout reads the clock afresh, so four set in one tick can fall due a millisecond apart.
    const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
    const waits = ['a', 'b', 'c', 'd'].map((id) => [id, step(async () => (await nextTurn(), id))] as const);
    const pipeline = new Pipeline({ name: 'timers', steps: { ...Object.fromEntries(waits), join: step(() => 'done') }, dependencies: { join: ['a', 'b', 'c', 'd'] } });
    expect((await pipeline.execute({}, undefined, { store })).output).toBe('done');
    expect(batches).toEqual([['a', 'b', 'c', 'd'], ['join']]);
  });

  it("asks for a synchronous step's record in the tick it returned (no microtask before the record)", async () => {
    const inner = new MemoryRunStore();
    const order: string[] = [];
    const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
      recordSteps: (runId: string, epoch: number, records: Parameters<RunStore['recordSteps']>[2]) => {
        order.push(`record ${records.map((record) => record.stepId).join(',')}`);
        return inner.recordSteps(runId, epoch, records);
      },
    });
    const returning = (id: string) =>
      step(() => {
        // Runs once the microtasks queued before it ran: after the record only if that is asked at once.
        queueMicrotask(() => order.push(`microtask after ${id}`));
        return id;
      });
    const pipeline = new Pipeline({ name: 'sync-chain', steps: { a: returning('a'), b: returning('b') }, dependencies: { b: ['a'] } });
    expect((await pipeline.execute({}, undefined, { store })).output).toBe('b');
    expect(order).toEqual(['record a', 'microtask after a', 'record b', 'microtask after b']);
  });

  it('with a store as without, a synchronous failure seen first wins over a sibling\'s INCOMPLETE stop that follows it', async () => {
    const pipeline = new Pipeline({
      name: 'first-wins',
      steps: {
        x: step(() => {
          throw new Error('x failed');
        }),
        y: step(() => new ConversationState({ status: ConversationStatus.INCOMPLETE, data: 'need more' })),
        z: step(() => 'z'),
      },
      dependencies: { z: ['x', 'y'] },
      outputStep: 'z',
    });
    for (const store of [undefined, new MemoryRunStore()]) {
      const error = await rejectionOf(pipeline.execute({}, undefined, { store }));
      expect(error).toBeInstanceOf(StepExecutionError);
      expect((error as StepExecutionError).stepId).toBe('x');
    }
  });

  it('writes records with the fields of their status only, and the store keeps what it was given', async () => {
    const inner = new MemoryRunStore();
    const written: StepRecord[] = [];
    const store: RunStore = Object.assign(Object.create(inner) as RunStore, {
      recordSteps: (runId: string, epoch: number, records: StepRecord[]) => {
        written.push(...records);
        return inner.recordSteps(runId, epoch, records);
      },
    });
    const pipeline = new Pipeline({
      name: 'fields',
      outputStep: 'ok',
      steps: {
        ok: step(() => 'fine'),
        bad: step(() => {
          throw new Error('broken');
        }),
      },
    });
    const result = await rejectionOf(pipeline.execute({}, undefined, { store, runId: 'fields-1' }));
    expect(StepExecutionError.isInstance(result)).toBe(true);
    const keysOf = (stepId: string) => Object.keys(written.find((record) => record.stepId === stepId)!).sort();
    const common = ['attempts', 'endedAt', 'generation', 'startedAt', 'status', 'stepId', 'usage'];
    expect(keysOf('ok')).toEqual([...common, 'output'].sort());
    expect(keysOf('bad')).toEqual([...common, 'error'].sort());
    const stored = await inner.getRun('fields-1');
    expect(stored?.steps.map((record) => ({ ...record }))).toStrictEqual(written.map((record) => ({ ...record })));
  });

  it('refuses an execute with a runId that exists, and a second owner while the lease is live', async () => {
    const store = new MemoryRunStore();
    const gate = deferred();
    const pipeline = new Pipeline({ name: 'p', store, steps: { a: step(() => gate.promise.then(() => 'a')) } });
    const first = pipeline.execute({}, undefined, { runId: 'r-1' });
    await flush();
    // While the first runs (its lease is live), a second execute or resume is locked out.
    const second = await rejectionOf(pipeline.execute({}, undefined, { runId: 'r-1' }));
    expect(second).toBeInstanceOf(RunLockedError);
    expect(second).toMatchObject({ runId: 'r-1', leaseUntil: expect.any(Number) });
    const locked = await rejectionOf(pipeline.resume('r-1'));
    expect(RunLockedError.isInstance(locked)).toBe(true);
    gate.resolve();
    expect((await first).output).toBe('a');
    // Once it ended, an execute with its id is still refused: it exists (resume it instead).
    const exists = await rejectionOf(pipeline.execute({}, undefined, { runId: 'r-1' }));
    expect(RunExistsError.isInstance(exists)).toBe(true);
    expect(RunLockedError.isInstance(exists)).toBe(false);
  });

  it("goes on when a createRun whose answer was lost is tried again and finds the run it created (a store of the user's own)", async () => {
    const inner = new MemoryRunStore();
    let calls = 0;
    // The first write lands, then the connection drops: the engine tries the call again, which
    // finds the run (RunExistsError).
    const store: RunStore = Object.assign(Object.create(inner) as MemoryRunStore, {
      createRun: async (run: Parameters<RunStore['createRun']>[0]) => {
        calls++;
        await inner.createRun(run);
        if (calls === 1) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      },
    });
    const pipeline = new Pipeline({ name: 'p', store, steps: { a: step(() => 'a') } });
    const result = await pipeline.execute({}, undefined, { runId: 'lost-answer' });
    expect(result.output).toBe('a');
    expect(calls).toBe(2);
    expect((await inner.getRun('lost-answer'))?.run.status).toBe('completed');
    // Another run's record under that id is still refused, as before.
    expect(RunExistsError.isInstance(await rejectionOf(pipeline.execute({}, undefined, { runId: 'lost-answer' })))).toBe(true);
  });

  it('resuming a completed run returns the conversation state that ended last, as the run did', async () => {
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({
      name: 'states',
      store,
      steps: {
        fast: step(async () => {
          await sleep(2);
          return new ConversationState({ status: ConversationStatus.COMPLETE, data: 'fast' });
        }),
        slow: step(async () => {
          await sleep(30);
          return new ConversationState({ status: ConversationStatus.COMPLETE, data: 'slow' });
        }),
        join: step(() => 'joined'),
      },
      dependencies: { join: ['fast', 'slow'] },
    });
    const first = await pipeline.execute({});
    expect(first.conversationState?.data).toBe('slow');
    expect((await pipeline.resume(first.runId)).conversationState?.data).toBe('slow');
  });

  it('resuming a completed run without rerun returns its recorded result and runs nothing', async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    const pipeline = new Pipeline({
      name: 'p',
      store,
      steps: { a: step(() => (count('a'), { at: new Date(0), tags: new Set(['x']) })), b: step((ctx: StepContext) => (count('b'), ctx.getDependency<{ tags: Set<string> }>('a').tags.has('x'))) },
      dependencies: { b: ['a'] },
    });
    const first = await pipeline.execute({});
    const again = await pipeline.resume(first.runId);
    expect(again.output).toBe(true);
    expect(again.stepOutputs.a).toEqual({ at: new Date(0), tags: new Set(['x']) });
    expect(runs).toEqual({ a: 1, b: 1 });
    expect(Object.keys(again.timings)).toEqual(['a', 'b']);
  });

  it("resuming a completed run whose steps failed under onError 'continue' runs nothing and restores its errors and skipped steps", async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    const agent = createMockAgent([{ output: 'paid', costMicrocents: 700, inputTokens: 3, outputTokens: 1 }]);
    const pipeline = new Pipeline({
      name: 'continued',
      store,
      config: new PipelineConfig({ onError: 'continue' }),
      steps: {
        a: step(() => (count('a'), 'a')),
        flaky: step(async (ctx: StepContext) => {
          count('flaky');
          await ctx.run(agent, 'hi');
          throw Object.assign(new RangeError('quota gone'), { code: 'E_QUOTA' });
        }),
        after: step(() => (count('after'), 'never')),
        out: step(() => (count('out'), 'out')),
      },
      dependencies: { flaky: ['a'], after: ['flaky'], out: ['a'] },
      outputStep: 'out',
    });
    const first = await pipeline.execute({});
    expect(Object.keys(first.errors)).toEqual(['flaky']);
    const events: string[] = [];
    const again = await pipeline.resume(first.runId, { onEvent: (event) => void events.push(event.type === 'pipeline.started' || event.type === 'pipeline.completed' ? event.type : `${event.type} ${'stepId' in event ? event.stepId : ''}`) });

    expect(runs).toEqual({ a: 1, flaky: 1, out: 1 });
    expect(again.output).toBe('out');
    expect(Object.keys(again.errors)).toEqual(['flaky']);
    const error = again.errors.flaky as StepExecutionError;
    expect(error).toBeInstanceOf(StepExecutionError);
    expect(error.message).toContain('quota gone');
    expect(error.originalError).toMatchObject({ name: 'RangeError', code: 'E_QUOTA', message: 'quota gone' });
    expect(again.skipped).toEqual(['after']);
    expect(again.usage?.totalCostMicrocents).toBe(first.usage?.totalCostMicrocents);
    expect(again.usage?.totalCostMicrocents).toBe(700);
    // From its record, in ms since the run's first start.
    const stored = (await store.getRun(first.runId))!;
    const flakyRecord = stored.steps.find((record) => record.stepId === 'flaky')!;
    expect(again.timings.flaky).toEqual({ startMs: flakyRecord.startedAt - stored.run.createdAt, endMs: flakyRecord.endedAt - stored.run.createdAt, attempts: 1 });
    expect(events).toEqual([
      'pipeline.started',
      'step.completed a',
      'step.completed out',
      'step.failed flaky',
      'step.skipped after',
      expect.stringMatching(/^level\.completed/),
      expect.stringMatching(/^level\.completed/),
      expect.stringMatching(/^level\.completed/),
      'pipeline.completed',
    ]);
    expect(stored.steps).toHaveLength(3);
    expect((await store.getRun(first.runId))?.steps).toHaveLength(3);
  });

  it('resuming a completed run restores as failed only what failed last, not an older failure of a step that was skipped since', async () => {
    const store = new MemoryRunStore();
    let aFails = false;
    const { runs, count } = ledger();
    const pipeline = new Pipeline({
      name: 'refailed',
      store,
      config: new PipelineConfig({ onError: 'continue' }),
      steps: {
        c: step(() => {
          count('c');
          throw new Error('c broke');
        }),
        a: step(() => {
          count('a');
          if (aFails) throw new Error('a broke');
          return 'a';
        }),
        out: step(() => (count('out'), 'out')),
      },
      dependencies: { c: ['a'] },
      outputStep: 'out',
    });
    const first = await pipeline.execute({});
    expect(Object.keys(first.errors)).toEqual(['c']);
    aFails = true;
    const second = await pipeline.resume(first.runId, { rerun: ['a'] });
    expect(Object.keys(second.errors)).toEqual(['a']);
    expect(second.skipped).toEqual(['c']);
    const third = await pipeline.resume(first.runId);
    expect(Object.keys(third.errors)).toEqual(['a']);
    expect(third.skipped).toEqual(['c']);
    expect(Object.keys(third.timings).sort()).toEqual(['a', 'out']);
    expect(runs).toEqual({ a: 2, c: 1, out: 1 });
  });

  it('rerun runs the named steps and their dependents under a new generation, keeping old records', async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    let version = 1;
    const pipeline = new Pipeline({
      name: 'p',
      store,
      steps: { a: step(() => (count('a'), 'a')), b: step(() => (count('b'), `b${version}`)), c: step((ctx: StepContext) => (count('c'), `${ctx.getDependency('b')}!`)) },
      dependencies: { b: ['a'], c: ['b'] },
    });
    const first = await pipeline.execute({});
    version = 2;
    const rerun = await pipeline.resume(first.runId, { rerun: ['b'] });
    expect(rerun.output).toBe('b2!');
    expect(runs).toEqual({ a: 1, b: 2, c: 2 });
    const recorded = await store.getRun(first.runId);
    expect(recorded?.steps.map((record) => `${record.stepId}@${record.generation}`)).toEqual(['a@1', 'b@1', 'c@1', 'b@2', 'c@2']);
  });

  it("hands a runner the generations of each step's ancestors other than 1: none in a run's first epoch, the rerun ones after a rerun", async () => {
    const store = new MemoryRunStore();
    const generations: Record<string, unknown> = {};
    const runner = {
      runStep: (task: StepTask) => {
        generations[task.stepId] = task.durable?.ancestorGenerations;
        return runStepTask(task);
      },
    };
    const pipeline = new Pipeline({
      name: 'p',
      store,
      steps: { a: step(() => 'a'), b: step(() => 'b'), c: step(() => 'c'), d: step(() => 'd') },
      dependencies: { b: ['a'], c: ['b'], d: ['a'] },
    });
    const first = await pipeline.execute({}, undefined, { runner });
    expect(generations).toEqual({ a: undefined, b: undefined, c: undefined, d: undefined });
    await pipeline.resume(first.runId, { rerun: ['b'], runner });
    // b and c run again at generation 2; a (restored, generation 1) is not named.
    expect(generations).toEqual({ a: undefined, b: undefined, c: { b: 2 }, d: undefined });
  });

  it('records a step at the later generation its runner ran it at, and ignores one that cannot be a generation', async () => {
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({ name: 'p', store, steps: { a: step(() => 'a'), b: step((ctx: StepContext) => `${ctx.getDependency('a')}b`) }, dependencies: { b: ['a'] } });
    const movedTo = (generation: number) => ({
      runStep: async (task: StepTask) => {
        const outcome = await runStepTask(task);
        return task.stepId === 'a' ? { ...outcome, generation } : outcome;
      },
    });
    const moved = await pipeline.execute({}, undefined, { runner: movedTo(3) });
    const bogus = await pipeline.execute({}, undefined, { runner: movedTo(2 ** 31) });

    const recorded = async (runId: string) => (await store.getRun(runId))!.steps.map((record) => `${record.stepId}@${record.generation}`);
    expect(await recorded(moved.runId)).toEqual(['a@3', 'b@1']);
    expect(await recorded(bogus.runId)).toEqual(['a@1', 'b@1']);
    expect(moved.output).toBe('ab');

    // A runner whose record contradicts the generation it names: the step fails, saying so.
    const contradicting = {
      runStep: async (task: StepTask) => {
        const outcome = await runStepTask(task);
        if (task.stepId !== 'a') return outcome;
        const record = { stepId: 'a', generation: 1, status: 'completed', output: '"a"', usage: { requestCount: 0, costMicrocents: 0 }, attempts: 1, startedAt: outcome.startedAt, endedAt: outcome.endedAt } as StepRecord;
        return { ...outcome, generation: 2, recorded: record };
      },
    };
    await expect(pipeline.execute({}, undefined, { runner: contradicting })).rejects.toThrow("The runner of step 'a' says it ran at generation 2, and recorded it at generation 1");
  });

  it('a rerun interrupted after it recorded the rerun step: the next resume runs the dependents on its new output', async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    let version = 1;
    let holdB: Promise<void> | undefined;
    const bStarted = deferred();
    const pipeline = new Pipeline({
      name: 'rerun-interrupted',
      store,
      steps: {
        a: step(() => (count('a'), `a${version}`)),
        b: step(async (ctx: StepContext) => {
          count('b');
          if (holdB !== undefined) {
            bStarted.resolve();
            await sleep(10_000, ctx.signal);
          }
          return `b(${ctx.getDependency<string>('a')})`;
        }),
      },
      dependencies: { b: ['a'] },
    });
    expect((await pipeline.execute({}, undefined, { runId: 'rerun-interrupted' })).output).toBe('b(a1)');
    version = 2;
    holdB = bStarted.promise;
    const controller = new AbortController();
    const rerun = pipeline.resume('rerun-interrupted', { rerun: ['a'], signal: controller.signal });
    await bStarted.promise; // a@2 is recorded: b started after it
    controller.abort('user left');
    expect(PipelineAbortedError.isInstance(await rejectionOf(rerun))).toBe(true);
    holdB = undefined;
    const resumed = await pipeline.resume('rerun-interrupted');
    expect({ a: resumed.stepOutputs.a, b: resumed.output }).toEqual({ a: 'a2', b: 'b(a2)' });
    expect(runs).toEqual({ a: 2, b: 3 });
  });

  it('refuses to resume a run recorded by another graph, naming the change', async () => {
    const store = new MemoryRunStore();
    const v1 = new Pipeline({ name: 'p', store, steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    const { runId } = await v1.execute({});
    const v2 = new Pipeline({ name: 'p', store, steps: { a: step(() => 1), b: step(() => 2), c: step(() => 3) }, dependencies: { b: ['a'], c: ['b'] } });
    const error = await rejectionOf(v2.resume(runId));
    expect(PipelineValidationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/added 'c'/);
    // The refused claim released the lease: the right pipeline resumes at once.
    expect((await v1.resume(runId)).output).toBe(2);
  });

  it('resumes a run with the same graph whose steps are declared in another order', async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    const first = new Pipeline({ name: 'p', store, steps: { a: step(() => (count('a'), 1)), b: step(() => (count('b'), 2)) }, dependencies: { b: ['a'] } });
    const { runId } = await first.execute({});
    const reordered = new Pipeline({ name: 'p', store, steps: { b: step(() => (count('b'), 2)), a: step(() => (count('a'), 1)) }, dependencies: { b: ['a'] }, outputStep: 'b' });
    expect((await reordered.resume(runId)).output).toBe(2);
    expect(runs).toEqual({ a: 1, b: 1 });
  });

  it('rejects resume of an unknown run and a resume without a store', async () => {
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1) } });
    expect(RunNotFoundError.isInstance(await rejectionOf(pipeline.resume('nope', { store })))).toBe(true);
    expect(PipelineValidationError.isInstance(await rejectionOf(pipeline.resume('nope')))).toBe(true);
  });

  it("another writer's record of the same step wins either way: their failure fails the step, their output feeds the dependents", async () => {
    // A store where another writer records step 'a' (same generation) just before this run's record.
    const racedStore = (theirs: (mine: StepRecord) => StepRecord) => {
      const inner = new MemoryRunStore();
      return Object.assign(Object.create(inner) as RunStore, {
        recordSteps: async (runId: string, epoch: number, records: StepRecord[]) => {
          const mine = records.find((record) => record.stepId === 'a');
          if (mine !== undefined) await inner.recordSteps(runId, epoch, [theirs(mine)]);
          return inner.recordSteps(runId, epoch, records);
        },
      });
    };
    const { runs, count } = ledger();
    const pipeline = (a: () => unknown) =>
      new Pipeline({ name: 'p', steps: { a: step(a), b: step((ctx: StepContext) => (count('b'), `b got ${String(ctx.getDependency('a'))}`)) }, dependencies: { b: ['a'] } });

    const theirFailure = (mine: StepRecord): StepRecord => ({ ...mine, status: 'failed', output: undefined, error: { name: 'Error', message: 'their attempt failed' } });
    const failed = await rejectionOf(pipeline(() => 'mine').execute({}, undefined, { store: racedStore(theirFailure) }));
    expect(StepExecutionError.isInstance(failed)).toBe(true);
    expect(failed).toMatchObject({ stepId: 'a', message: "Step 'a' failed: their attempt failed" });
    expect(runs).toEqual({});

    const theirOutput = (mine: StepRecord): StepRecord => ({ ...mine, status: 'completed', output: JSON.stringify('theirs'), error: undefined });
    const result = await pipeline(() => {
      throw new Error('mine failed');
    }).execute({}, undefined, { store: racedStore(theirOutput) });
    expect(result.output).toBe('b got theirs');
    expect(result.errors).toEqual({});
    expect(runs).toEqual({ b: 1 });
  });

  it('refuses bad resume options before claiming the run: the run stays as it was and a later resume works', async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    const pipeline = new Pipeline({ name: 'p', store, steps: { a: step(() => (count('a'), 1)), b: step(() => (count('b'), 2)) }, dependencies: { b: ['a'] } });
    const { runId } = await pipeline.execute({});
    const before = (await store.getRun(runId))!.run;
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ signal: {} }, /resume\(\) options\.signal must be an AbortSignal/],
      [{ onEvent: 5 }, /resume\(\) options\.onEvent must be a function/],
      [{ tracer: {} }, /resume\(\) options\.tracer must be a Tracer/],
      [{ rerun: 'a' }, /resume\(\) options\.rerun must be an array of step ids, got 'a'/],
      [{ rerun: ['a', 1] }, /options\.rerun must be an array of step ids/],
      [{ store: {} }, /resume\(\) options\.store must be a RunStore/],
      [{ runner: {} }, /resume\(\) options\.runner must be a StepRunner/],
    ];
    expect(await rejectionOf(pipeline.resume(runId, null as never))).toEqual(new TypeError('resume() options must be an object, got null'));
    for (const [options, message] of bad) {
      const error = await rejectionOf(pipeline.resume(runId, options as never));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(message);
    }
    const aborted = new AbortController();
    aborted.abort();
    expect(PipelineAbortedError.isInstance(await rejectionOf(pipeline.resume(runId, { signal: aborted.signal })))).toBe(true);
    expect((await store.getRun(runId))!.run).toEqual(before);
    expect((await pipeline.resume(runId, { rerun: ['b'] })).output).toBe(2);
    expect(runs).toEqual({ a: 1, b: 2 });
  });

  it('refuses a store that is not a RunStore when the pipeline is built or a run starts, not as an outage', async () => {
    const built = thrownBy(() => new Pipeline({ name: 'p', store: {} as RunStore, steps: { a: step(() => 1) } }));
    expect(PipelineValidationError.isInstance(built)).toBe(true); // as every check of the constructor (API.md §4)
    expect((built as Error).message).toMatch(/Pipeline options\.store must be a RunStore .*; it has no createRun, claimRun, .* methods/);
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1) } });
    const error = await rejectionOf(pipeline.execute({}, undefined, { store: { createRun: () => Promise.resolve() } as unknown as RunStore }));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/execute\(\) options\.store must be a RunStore .*it has no claimRun, renewLease, recordSteps, setRunStatus, addRunCost, getRun methods/);
  });

  it('fails a step whose output cannot be stored, naming the path, and does not retry it', async () => {
    class Entity {}
    const { runs, count } = ledger();
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step({ retries: 3, retryDelay: 0 }, () => (count('a'), { entities: [1, 2, new Entity()] })) },
    });
    const error = await rejectionOf(pipeline.execute({}, undefined, { store: new MemoryRunStore() }));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    const cause = (error as StepExecutionError).originalError;
    expect(OutputNotStorableError.isInstance(cause)).toBe(true);
    expect(cause.message).toMatch(/\$\.entities\[2\] is an instance of Entity/);
    expect(runs).toEqual({ a: 1 });
  });

  it("under onError 'fail' with a store, running siblings drain and are recorded; a resume runs only the failed step and its dependents", async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    let broken = true;
    const pipeline = new Pipeline({
      name: 'drain',
      store,
      steps: {
        slow: step(async () => {
          count('slow');
          await sleep(20);
          return 'slow';
        }),
        flaky: step(() => {
          count('flaky');
          if (broken) throw new Error('upstream 500');
          return 'flaky';
        }),
        join: step((ctx: StepContext) => (count('join'), `${ctx.getDependency('slow')}+${ctx.getDependency('flaky')}`)),
      },
      dependencies: { join: ['slow', 'flaky'] },
    });
    const events: string[] = [];
    const error = await rejectionOf(pipeline.execute({}, undefined, { onEvent: (event) => events.push('stepId' in event ? `${event.type}:${event.stepId}` : event.type) }));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).stepId).toBe('flaky');
    // Draining completes no level: join, skipped, never ran (level.completed used to follow slow's end).
    expect(events).toEqual(['pipeline.started', 'step.started:slow', 'step.started:flaky', 'step.failed:flaky', 'step.completed:slow']);
    const { runId } = (await store.listRuns()).runs[0];
    const recorded = await store.getRun(runId);
    expect(recorded?.run.status).toBe('failed');
    expect(recorded?.run.error).toMatchObject({ message: 'upstream 500' });
    expect(recorded?.steps.map((record) => `${record.stepId}:${record.status}`).sort()).toEqual(['flaky:failed', 'slow:completed']);

    broken = false;
    const resumed = await pipeline.resume(runId);
    expect(resumed.output).toBe('slow+flaky');
    expect(runs).toEqual({ slow: 1, flaky: 2, join: 1 });
  });

  it("under onError 'fail' with a store, a running sibling ends with its attempt: no retry starts while the run drains, and its failure is announced", async () => {
    const store = new MemoryRunStore();
    const agent = createMockAgent([{ output: 'x', costMicrocents: 100 }]);
    let attempts = 0;
    const pipeline = new Pipeline({
      name: 'drain-no-retry',
      store,
      steps: {
        first: step(async () => {
          await sleep(5);
          throw new Error('first failed');
        }),
        sibling: step({ retries: 3, retryDelay: 0.05 }, async (ctx: StepContext) => {
          attempts++;
          await ctx.run(agent, 'go');
          await sleep(20);
          throw new Error('sibling failed');
        }),
      },
      outputStep: 'first',
    });
    const events: string[] = [];
    const error = (await rejectionOf(
      pipeline.execute({}, undefined, { runId: 'drain', onEvent: (event) => events.push('stepId' in event ? `${event.type}:${event.stepId}` : event.type) }),
    )) as StepExecutionError;
    expect(error.stepId).toBe('first');
    expect(attempts).toBe(1);
    expect(error.runUsage?.totalCostMicrocents).toBe(100);
    expect(events).toEqual(['pipeline.started', 'step.started:first', 'step.started:sibling', 'step.failed:first', 'step.failed:sibling']);
    expect((await store.getRun('drain'))!.steps.find((record) => record.stepId === 'sibling')).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it("with failFast, a failure aborts running siblings at once", async () => {
    const siblingAborted = deferred<unknown>();
    const pipeline = new Pipeline({
      name: 'fast',
      config: new PipelineConfig({ failFast: true }),
      steps: {
        slow: step(async (ctx: StepContext) => {
          await sleep(10_000, ctx.signal).catch((reason: unknown) => siblingAborted.resolve(reason));
          return 'slow';
        }),
        bad: step(() => {
          throw new Error('bad');
        }),
      },
      outputStep: 'slow',
    });
    expect(StepExecutionError.isInstance(await rejectionOf(pipeline.execute({}, undefined, { store: new MemoryRunStore() })))).toBe(true);
    expect(StepExecutionError.isInstance(await siblingAborted.promise)).toBe(true);
  });

  it('with failFast, an output the store cannot hold aborts running siblings at once too', async () => {
    class Entity {}
    const siblingAborted = deferred<unknown>();
    const pipeline = new Pipeline({
      name: 'fast-unstorable',
      config: new PipelineConfig({ failFast: true }),
      steps: {
        slow: step(async (ctx: StepContext) => {
          await sleep(10_000, ctx.signal).catch((reason: unknown) => siblingAborted.resolve(reason));
          return 'slow';
        }),
        bad: step(() => new Entity()),
      },
      outputStep: 'slow',
    });
    const error = await rejectionOf(pipeline.execute({}, undefined, { store: new MemoryRunStore() }));
    expect((error as StepExecutionError).stepId).toBe('bad');
    expect(StepExecutionError.isInstance(await siblingAborted.promise)).toBe(true);
  });

  it('parallel INCOMPLETE steps both run again on resume; finished siblings stay finished', async () => {
    const store = new MemoryRunStore();
    const { runs, count } = ledger();
    const ask = (id: string, field: string, ms: number) =>
      step(async (ctx: StepContext) => {
        count(id);
        await sleep(ms);
        const value = ctx.getInput<string | undefined>(field);
        return value === undefined ? new ConversationState({ status: ConversationStatus.INCOMPLETE, context: { missing: field } }) : value;
      });
    const pipeline = new Pipeline({
      name: 'parallel',
      store,
      steps: {
        sibling: step(async () => (count('sibling'), await sleep(1), 'sibling')),
        askCity: ask('askCity', 'city', 5),
        askDate: ask('askDate', 'date', 15),
        done: step((ctx: StepContext) => (count('done'), `${ctx.getDependency('askCity')} ${ctx.getDependency('askDate')}`)),
      },
      dependencies: { done: ['askCity', 'askDate', 'sibling'] },
    });
    const first = await pipeline.execute({});
    expect(first.stoppedEarly).toBe(true);
    const recorded = await store.getRun(first.runId);
    expect(recorded?.steps.map((record) => `${record.stepId}:${record.status}`).sort()).toEqual(['askCity:incomplete', 'askDate:incomplete', 'sibling:completed']);
    const second = await pipeline.resume(first.runId, { input: { city: 'Porto', date: 'May 1' } });
    expect(second.output).toBe('Porto May 1');
    expect(runs).toEqual({ sibling: 1, askCity: 2, askDate: 2, done: 1 });
  });

  it('an aborted run is recorded as aborted and can be resumed', async () => {
    const store = new MemoryRunStore();
    const controller = new AbortController();
    const { runs, count } = ledger();
    const pipeline = new Pipeline({
      name: 'abort',
      store,
      steps: {
        a: step(() => (count('a'), 'a')),
        b: step(async (ctx: StepContext) => {
          count('b');
          if (runs.b === 1) {
            controller.abort('user left');
            await sleep(10_000, ctx.signal);
          }
          return 'b';
        }),
      },
      dependencies: { b: ['a'] },
    });
    const error = await rejectionOf(pipeline.execute({}, undefined, { signal: controller.signal }));
    expect(PipelineAbortedError.isInstance(error)).toBe(true);
    const { runs: [recorded] } = await store.listRuns();
    expect(recorded.status).toBe('aborted');
    const resumed = await pipeline.resume(recorded.runId);
    expect(resumed.output).toBe('b');
    expect(runs).toEqual({ a: 1, b: 2 });
  });

  it('a cancelled run writes the records of steps that finished while a batch was in flight: a resume neither runs nor pays for them again', async () => {
    // The first batch (a's record) is held in flight; b finishes meanwhile (its record pending) and the run is cancelled.
    const { inner, store, held } = firstBatchHeld();
    const controller = new AbortController();
    const { runs, count } = ledger();
    const agent = createMockAgent([{ output: 'b', costMicrocents: 1_000 }]);
    const bEnded = deferred();
    const pipeline = new Pipeline({
      name: 'cancel-pending',
      store,
      steps: {
        a: step(() => (count('a'), 'a')),
        b: step(async (ctx: StepContext) => {
          count('b');
          await flush();
          const output = (await ctx.run(agent, 'b')).output;
          bEnded.resolve();
          return output;
        }),
        c: step((ctx: StepContext) => (count('c'), `${ctx.getDependency('a')}${ctx.getDependency('b')}`)),
      },
      dependencies: { c: ['a', 'b'] },
    });
    const running = pipeline.execute({}, undefined, { signal: controller.signal, runId: 'cancel-pending' });
    await bEnded.promise;
    await flush();
    controller.abort('user left');
    held.resolve();
    expect(PipelineAbortedError.isInstance(await rejectionOf(running))).toBe(true);
    const recorded = await inner.getRun('cancel-pending');
    expect(recorded?.run.status).toBe('aborted');
    expect(recorded?.steps.map((record) => record.stepId)).toEqual(['a', 'b']);

    const resumed = await pipeline.resume('cancel-pending');
    expect(resumed.output).toBe('ab');
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
    expect(resumed.usage?.totalCostMicrocents).toBe(1_000);
  });

  it('with failFast, a sibling that finished before the failure is recorded: a resume runs only the failed step and its dependents', async () => {
    const { inner, store, held } = firstBatchHeld();
    const { runs, count } = ledger();
    const yEnded = deferred();
    let fail = true;
    const pipeline = new Pipeline({
      name: 'failfast-pending',
      store,
      config: new PipelineConfig({ failFast: true }),
      steps: {
        x: step(() => (count('x'), 'x')),
        y: step(async () => {
          count('y');
          await flush();
          yEnded.resolve();
          return 'y';
        }),
        z: step(async () => {
          count('z');
          await yEnded.promise;
          await flush();
          if (fail) throw new Error('z failed');
          return 'z';
        }),
        out: step((ctx: StepContext) => `${ctx.getDependency('x')}${ctx.getDependency('y')}${ctx.getDependency('z')}`),
      },
      dependencies: { out: ['x', 'y', 'z'] },
    });
    const running = pipeline.execute({}, undefined, { runId: 'ff' });
    await yEnded.promise;
    await flush();
    await flush();
    held.resolve();
    expect(await rejectionOf(running)).toBeInstanceOf(StepExecutionError);
    // The failure ends the run at once, its own record written as failed: it runs again on resume.
    expect((await inner.getRun('ff'))?.steps.map((record) => `${record.stepId}:${record.status}`).sort()).toEqual(['x:completed', 'y:completed', 'z:failed']);
    fail = false;
    const resumed = await pipeline.resume('ff');
    expect(resumed.output).toBe('xyz');
    expect(runs).toEqual({ x: 1, y: 1, z: 2 });
  });

  it('resumes at once, in the process whose run failed with StoreUnavailableError, the run still leased to it; another process waits for the lease', async () => {
    const inner = new MemoryRunStore();
    let failing = false;
    const down = () => Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    // The same store object throughout (one process); it fails while `failing`.
    const store: RunStore = Object.assign(Object.create(inner) as MemoryRunStore, {
      recordSteps: (...args: Parameters<RunStore['recordSteps']>) => (failing ? down() : inner.recordSteps(...args)),
      claimRun: (...args: Parameters<RunStore['claimRun']>) => (failing ? down() : inner.claimRun(...args)),
    });
    const { runs, count } = ledger();
    const pipeline = new Pipeline({
      name: 'p',
      store,
      steps: {
        a: step(() => {
          count('a');
          return 'a';
        }),
        b: step(() => {
          count('b');
          if (runs.b === 1) failing = true; // the store goes away as b's record is written, the first time
          return 'b';
        }),
      },
      dependencies: { b: ['a'] },
    });
    const failure = await rejectionOf(pipeline.execute({}, undefined, { runId: 'away' }));
    expect(StoreUnavailableError.isInstance(failure)).toBe(true);
    const left = (await inner.getRun('away'))!.run;
    expect([left.status, left.leaseUntil > Date.now()]).toEqual(['running', true]);
    // Another process (another store object on the same data) cannot know the run ended: it waits.
    const elsewhere = Object.assign(Object.create(inner) as MemoryRunStore, {});
    expect(RunLockedError.isInstance(await rejectionOf(pipeline.resume('away', { store: elsewhere })))).toBe(true);
    // A resume while the store is still down fails as the store does, and the next one may still claim at once.
    expect(StoreUnavailableError.isInstance(await rejectionOf(pipeline.resume('away')))).toBe(true);
    failing = false;
    // Two at the same time: one claims the lease the run left, the other is locked out and runs nothing.
    const [first, second] = await Promise.allSettled([pipeline.resume('away'), pipeline.resume('away')]);
    const resumed = first.status === 'fulfilled' ? first.value : second.status === 'fulfilled' ? second.value : undefined;
    const lockedOut = first.status === 'rejected' ? first.reason : second.status === 'rejected' ? second.reason : undefined;
    expect(resumed?.output).toBe('b');
    expect(RunLockedError.isInstance(lockedOut)).toBe(true);
    expect(runs).toEqual({ a: 1, b: 2 });
    expect((await inner.getRun('away'))!.run).toMatchObject({ status: 'completed', epoch: 2 });
  });

  it('stops with RunLeaseLostError when another process claims the run', async () => {
    let nowMs = Date.now();
    const store = new MemoryRunStore({ now: () => nowMs });
    const gate = deferred();
    const pipeline = new Pipeline({
      name: 'lease',
      store,
      steps: { a: step(() => gate.promise.then(() => 'a')), b: step(() => 'b') },
      dependencies: { b: ['a'] },
    });
    const running = pipeline.execute({}, undefined, { runId: 'leased' });
    await flush();
    // As if the owner's process had been frozen past its lease: another process claims the run.
    nowMs += 3_600_000;
    const other = await store.claimRun('leased', 'someone-else', 60_000);
    expect(other.epoch).toBe(2);
    gate.resolve();
    const error = await rejectionOf(running);
    expect(RunLeaseLostError.isInstance(error)).toBe(true);
    const recorded = await store.getRun('leased');
    expect(recorded?.steps).toEqual([]);
  });

  it('records usage of a failed step and of restored steps once', async () => {
    const store = new MemoryRunStore();
    const agent = createMockAgent([{ output: 'x', costMicrocents: 500 }]);
    let fail = true;
    const pipeline = new Pipeline({
      name: 'usage',
      store,
      steps: {
        paid: step(async (ctx: StepContext) => (await ctx.run(agent, 'go')).output),
        after: step(() => {
          if (fail) throw new Error('nope');
          return 'ok';
        }),
      },
      dependencies: { after: ['paid'] },
    });
    const { runId } = (await rejectionOf(pipeline.execute({})).then(() => store.listRuns())).runs[0];
    fail = false;
    const result = await pipeline.resume(runId);
    expect(result.usage?.totalCostMicrocents).toBe(500);
    expect(result.usage?.steps.paid).toBeInstanceOf(StepUsage);
  });

  it('a resume cancelled once it claimed the run, before any step ran, leaves a completed run completed: the next resume still runs nothing', async () => {
    const store = new MemoryRunStore();
    const { pipeline, runs } = withFailingStep(store);
    const { runId } = await pipeline.execute({});
    const before = (await store.getRun(runId))!.run;
    // Aborted after the check before the claim: the claim already set the run running.
    const controller = new AbortController();
    const resumed = pipeline.resume(runId, { signal: controller.signal });
    controller.abort(new Error('client went away'));
    expect(PipelineAbortedError.isInstance(await rejectionOf(resumed))).toBe(true);
    // Cancelled from a pipeline.started handler: the claim is made, nothing started yet.
    const cancelling = new AbortController();
    const fromHandler = pipeline.resume(runId, { signal: cancelling.signal, onEvent: (event) => event.type === 'pipeline.started' && cancelling.abort() });
    expect(PipelineAbortedError.isInstance(await rejectionOf(fromHandler))).toBe(true);
    // Cancelled at the restored level's level.completed: the scheduler started, no step was launched.
    const atLevel = new AbortController();
    const fromLevel = pipeline.resume(runId, { signal: atLevel.signal, onEvent: (event) => event.type === 'level.completed' && atLevel.abort() });
    expect(PipelineAbortedError.isInstance(await rejectionOf(fromLevel))).toBe(true);
    const after = (await store.getRun(runId))!.run;
    expect({ ...after, epoch: before.epoch, owner: before.owner, updatedAt: before.updatedAt }).toEqual(before);
    const result = await pipeline.resume(runId);
    expect(Object.keys(result.errors)).toEqual(['flaky']);
    expect(runs).toEqual({ ok: 1, flaky: 1 });
  });

  it('a resume of a stopped conversation cancelled before any step ran keeps its state, input and status', async () => {
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({
      name: 'ask',
      store,
      steps: {
        gather: step((ctx: StepContext) =>
          ctx.getInput('city') === undefined ? new ConversationState({ status: ConversationStatus.INCOMPLETE, context: { ask: 'Which city?' } }) : ctx.getInput('city'),
        ),
      },
    });
    const { runId } = await pipeline.execute({ user: 'u1' });
    const before = (await store.getRun(runId))!.run;
    expect(before.status).toBe('stopped');
    const controller = new AbortController();
    const resumed = pipeline.resume(runId, { input: { city: 'Lisbon' }, signal: controller.signal });
    controller.abort();
    expect(PipelineAbortedError.isInstance(await rejectionOf(resumed))).toBe(true);
    const after = (await store.getRun(runId))!.run;
    expect(after.status).toBe('stopped');
    expect(after.conversationState).toBe(before.conversationState);
    expect(after.input).toBe(before.input);
    expect(after.leaseUntil).toBe(0);
    expect((await pipeline.resume(runId, { input: { city: 'Porto' } })).output).toBe('Porto');
  });

  it('a resume builds no step it restores: a completed run resumes where a service of its steps cannot be made; a rerun that needs it leaves the run as it was', async () => {
    class Db {
      read() {
        return 'row';
      }
    }
    let dbBroken = false;
    const container = rootContainer.createChildContainer();
    container.register(Db, {
      useFactory: () => {
        if (dbBroken) throw new Error('DATABASE_URL is not set');
        return new Db();
      },
    });
    @Step()
    class LookupStep extends BaseStep<unknown, string> {
      constructor(private readonly db: Db) {
        super();
      }
      execute() {
        return this.db.read();
      }
    }
    const store = new MemoryRunStore();
    const pipeline = Pipeline.fromSteps({ name: 'lookup', steps: [LookupStep], store, container });
    const { runId } = await pipeline.execute({});
    dbBroken = true; // a process that only shows finished runs, without the database's settings
    expect((await pipeline.resume(runId)).output).toBe('row');
    expect((await store.getRun(runId))!.run.status).toBe('completed');
    // A rerun needs the step: it fails naming the service, and the run is left as it was.
    const error = await rejectionOf(pipeline.resume(runId, { rerun: ['lookup'] }));
    expect((error as Error).message).toMatch(/DATABASE_URL is not set/);
    const { run } = (await store.getRun(runId))!;
    expect(run.status).toBe('completed');
    expect(run.error).toBeUndefined();
  });

  it('a resume of a completed run builds and runs a step whose record is older than its dependency\'s latest (a late write), and only that one', async () => {
    const ran: string[] = [];
    @Step({ id: 'a' })
    class AStep extends BaseStep<unknown, string> {
      execute() {
        ran.push('a');
        return 'a1';
      }
    }
    @Step({ id: 'b' })
    class BStep extends BaseStep<unknown, string> {
      execute(ctx: StepContext) {
        ran.push('b');
        return `b(${ctx.getDependency<string>('a')})`;
      }
    }
    @Step({ id: 'f' })
    class FStep extends BaseStep<unknown, string> {
      execute(): string {
        ran.push('f');
        throw new Error('f failed');
      }
    }
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({
      name: 'late-record',
      store,
      config: new PipelineConfig({ onError: 'continue' }),
      steps: { a: AStep, b: BStep, f: FStep },
      dependencies: { b: ['a'] },
      outputStep: 'b',
    });
    const { runId } = await pipeline.execute({});
    const stored = (await store.getRun(runId))!;
    // A job of an earlier epoch wrote a later generation of 'a' after the run completed.
    const a1 = stored.steps.find((record) => record.stepId === 'a')!;
    expect(await store.recordSteps(runId, stored.run.epoch, [{ ...a1, generation: 2, output: JSON.stringify('a2') }])).toEqual(['recorded']);
    ran.length = 0;
    const result = await pipeline.resume(runId);
    expect(result.output).toBe('b(a2)');
    expect(Object.keys(result.errors)).toEqual(['f']);
    expect(ran).toEqual(['b']);
  });

  it("a runner that records its steps and fails to say how one ended writes no record of the caller's: its worker's record wins, and a resume does not run the step again", async () => {
    for (const failFast of [true, false]) {
      const store = new MemoryRunStore();
      const workerRecorded = deferred<string>();
      let executions = 0;
      // Its worker runs and records the step, while the runner loses the job (a queue's connection closed).
      const losingRunner = {
        requiresStore: true,
        runStep(task: StepTask) {
          if (task.stepId !== 'remote') return runStepTask(task);
          const { durable } = task;
          setTimeout(() => {
            executions++;
            const now = Date.now();
            const record: StepRecord = { stepId: 'remote', generation: durable!.generation, status: 'completed', output: JSON.stringify('remote-out'), usage: new StepUsage(), attempts: 1, startedAt: now, endedAt: now };
            void durable!.store.recordSteps(task.runId, durable!.epoch, [record]).then(([outcome]) => workerRecorded.resolve(outcome));
          }, 20);
          return Promise.reject(new Error('Connection is closed'));
        },
      };
      const pipeline = new Pipeline({
        name: 'lost-job',
        store,
        config: new PipelineConfig({ failFast }),
        steps: { remote: step(() => (executions++, 'local')), next: step((ctx: StepContext) => `next(${ctx.getDependency<string>('remote')})`) },
        dependencies: { next: ['remote'] },
      });
      const error = await rejectionOf(pipeline.execute({}, undefined, { runId: 'lost', runner: losingRunner }));
      expect((error as StepExecutionError).stepId).toBe('remote');
      expect(await workerRecorded.promise).toBe('recorded');
      expect((await store.getRun('lost'))!.steps.map((record) => `${record.stepId}:${record.status}`)).toEqual(['remote:completed']);
      expect((await pipeline.resume('lost')).output).toBe('next(remote-out)');
      expect(executions).toBe(1);
    }
  });

  it('a resume cancelled before it started whose put-back found the store down: the next resume in this process takes the run as it was', async () => {
    const { inner, pipeline, runs, runId } = await putBackFailedWorld();
    expect((await inner.getRun(runId))!.run.status).toBe('running'); // the claim's write: the put-back's failed
    const result = await pipeline.resume(runId);
    expect(Object.keys(result.errors)).toEqual(['flaky']);
    expect(runs).toEqual({ ok: 1, flaky: 1 });
    expect((await inner.getRun(runId))!.run.status).toBe('completed');
  });

  it('a resume cancelled once a step was launched ends the run aborted, keeping what it recorded', async () => {
    const store = new MemoryRunStore();
    let broken = true;
    const started = deferred();
    const pipeline = new Pipeline({
      name: 'cancel-running',
      store,
      steps: {
        first: step(() => {
          if (broken) throw new Error('down');
          return 'first';
        }),
        second: step(async (ctx: StepContext) => {
          started.resolve();
          await sleep(10_000, ctx.signal).catch(() => undefined);
          return 'second';
        }),
      },
      dependencies: { second: ['first'] },
    });
    const { runId } = (await rejectionOf(pipeline.execute({})).then(() => store.listRuns())).runs[0];
    broken = false;
    const controller = new AbortController();
    const resumed = pipeline.resume(runId, { signal: controller.signal });
    await started.promise;
    controller.abort();
    expect(PipelineAbortedError.isInstance(await rejectionOf(resumed))).toBe(true);
    const { run, steps } = (await store.getRun(runId))!;
    expect(run.status).toBe('aborted');
    expect(steps.map((record) => `${record.stepId}@${record.generation}:${record.status}`)).toEqual(['first@1:failed', 'first@2:completed']);
  });

  it('a put-back that found the store down is not applied once another process claimed the run since', async () => {
    const clock = { now: 1_000_000 };
    const { inner, pipeline, runs, runId } = await putBackFailedWorld(clock);
    // The lease lapses; another process claims the run (it reruns a step, say) and dies: running again.
    clock.now += 5_000;
    await inner.claimRun(runId, 'another-process', 1_000);
    clock.now += 5_000;
    await pipeline.resume(runId);
    // The run was another process's crashed run, not the completed one put back: its failed step runs again.
    expect(runs).toEqual({ ok: 1, flaky: 2 });
  });

  it('a resume of a crashed run cancelled before it started ends the run aborted (not put back as running)', async () => {
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({ name: 'crashed', store, steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    const { runId } = await pipeline.execute({});
    // As a process that died mid-run leaves it: running, its lease lapsed.
    const { epoch } = (await store.getRun(runId))!.run;
    await store.setRunStatus(runId, epoch, 'running', { leaseUntil: 0 });
    const controller = new AbortController();
    const resumed = pipeline.resume(runId, { signal: controller.signal });
    controller.abort();
    expect(PipelineAbortedError.isInstance(await rejectionOf(resumed))).toBe(true);
    expect((await store.getRun(runId))!.run).toMatchObject({ status: 'aborted', error: { name: 'PipelineAbortedError' }, leaseUntil: 0 });
  });

  it('a run that stops starting steps (a failure drains it, an INCOMPLETE stop) lets its runner take back the tasks not started: they never ran, and a resume runs them', async () => {
    for (const ending of ['failure', 'stop'] as const) {
      const store = new MemoryRunStore();
      const { runs, count } = ledger();
      let firstRun = true;
      // A queue: 'queued' waits for a worker that never comes, and is taken back once the run stops starting steps.
      const queueingRunner = {
        requiresStore: true,
        runStep(task: StepTask): Promise<StepOutcome> {
          if (task.stepId !== 'queued' || !firstRun) return runStepTask(task);
          return new Promise((resolve) => {
            task.stopStarting!.addEventListener('abort', () => resolve({ status: 'withdrawn', usage: undefined, attempts: 0, startedAt: Date.now(), endedAt: Date.now() }));
          });
        },
      };
      const pipeline = new Pipeline({
        name: 'stop-starting',
        store,
        steps: {
          first: step(async (ctx: StepContext) => {
            count('first');
            await flush();
            if (!firstRun) return 'first';
            if (ending === 'stop') return new ConversationState({ status: ConversationStatus.INCOMPLETE, context: { ask: 'more' } });
            throw new Error('first failed');
          }),
          queued: step(() => (count('queued'), 'queued')),
          last: step((ctx: StepContext) => `${ctx.getDependency<string>('first')}+${ctx.getDependency<string>('queued')}`),
        },
        dependencies: { last: ['first', 'queued'] },
      });
      const ended = pipeline.execute({}, undefined, { runId: 'r', runner: queueingRunner });
      if (ending === 'failure') expect(((await rejectionOf(ended)) as StepExecutionError).stepId).toBe('first');
      else expect((await ended).stepOutputs).not.toHaveProperty('queued');
      expect(runs).toEqual({ first: 1 });
      expect((await store.getRun('r'))!.steps.map((record) => record.stepId)).toEqual(['first']);
      firstRun = false;
      expect((await pipeline.resume('r', { runner: queueingRunner })).output).toBe('first+queued');
      expect(runs).toEqual({ first: 2, queued: 1 });
    }
  });

  it("restores the usage of a step whose call reported tokens only (a cache hit: no request, no cost)", async () => {
    const store = new MemoryRunStore();
    const agent = createMockAgent([{ output: 'cached', inputTokens: 7, outputTokens: 3, requestCount: 0, costMicrocents: 0 }]);
    let stop = true;
    const pipeline = new Pipeline({
      name: 'cache-hit',
      store,
      steps: {
        cached: step(async (ctx: StepContext) => (await ctx.run(agent, 'go')).output),
        ask: step(() => (stop ? new ConversationState({ status: ConversationStatus.INCOMPLETE }) : 'done')),
      },
      dependencies: { ask: ['cached'] },
    });
    const first = await pipeline.execute({});
    expect(first.usage?.steps.cached).toMatchObject({ inputTokens: 7, outputTokens: 3 });
    stop = false;
    const resumed = await pipeline.resume(first.runId!);
    expect(resumed.usage?.steps.cached).toMatchObject({ inputTokens: 7, outputTokens: 3, requestCount: 0 });
    expect(resumed.usage?.totalInputTokens).toBe(7);
  });

  it("a nested pipeline's StepExecutionError a step threw is re-thrown as it is, live and restored from its record", async () => {
    const inner = new Pipeline({
      name: 'inner',
      steps: {
        innerStep: step(() => {
          throw new Error('inner broke');
        }),
      },
    });
    const store = new MemoryRunStore();
    const pipeline = new Pipeline({
      name: 'outer',
      store,
      config: new PipelineConfig({ onError: 'continue' }),
      steps: { ok: step(() => 'ok'), outer: step(() => inner.execute({})) },
      outputStep: 'ok',
    });
    const live = await pipeline.execute({});
    const restored = await pipeline.resume(live.runId!);
    for (const result of [live, restored]) {
      const error = result.errors.outer as StepExecutionError;
      expect(StepExecutionError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ stepId: 'innerStep', message: "Step 'innerStep' failed: inner broke" });
      expect(error.originalError.message).toBe('inner broke');
    }
  });

  it('a step whose output cannot be stored fails carrying what it was billed (StepExecutionError.usage)', async () => {
    class Entity {}
    const agent = createMockAgent([{ output: 'x', costMicrocents: 700 }]);
    const pipeline = new Pipeline({
      name: 'unstorable',
      steps: { a: step(async (ctx: StepContext) => ((await ctx.run(agent, 'go')), new Entity())) },
    });
    const error = (await rejectionOf(pipeline.execute({}, undefined, { store: new MemoryRunStore() }))) as StepExecutionError;
    expect(OutputNotStorableError.isInstance(error.originalError)).toBe(true);
    expect(error.usage.costMicrocents).toBe(700);
    expect(error.runUsage?.totalCostMicrocents).toBe(700);
  });

  it('with failFast, the failed step is recorded (its error and what it cost) before the run ends', async () => {
    const store = new MemoryRunStore();
    const agent = createMockAgent([{ output: 'x', costMicrocents: 300 }]);
    const pipeline = new Pipeline({
      name: 'fast-recorded',
      store,
      config: new PipelineConfig({ failFast: true }),
      steps: {
        slow: step(async (ctx: StepContext) => {
          await sleep(10_000, ctx.signal).catch(() => undefined);
          return 'slow';
        }),
        bad: step({ retries: 1, retryDelay: 0 }, async (ctx: StepContext) => {
          await ctx.run(agent, 'go');
          throw new Error('bad');
        }),
      },
      outputStep: 'slow',
    });
    expect(StepExecutionError.isInstance(await rejectionOf(pipeline.execute({}, undefined, { runId: 'ff' })))).toBe(true);
    const { run, steps } = (await store.getRun('ff'))!;
    expect(run.status).toBe('failed');
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ stepId: 'bad', status: 'failed', attempts: 2, error: { message: 'bad' }, usage: { costMicrocents: 600 } });
  });

  it("a cancellation while a failure drains the run rejects with that failure, as without a store (what happens first wins)", async () => {
    const store = new MemoryRunStore();
    const controller = new AbortController();
    const pipeline = new Pipeline({
      name: 'first-wins',
      store,
      steps: {
        bad: step(() => {
          throw new Error('bad');
        }),
        slow: step(async (ctx: StepContext) => {
          await sleep(10_000, ctx.signal).catch(() => undefined);
          return 'slow';
        }),
      },
      outputStep: 'slow',
    });
    const error = await rejectionOf(
      pipeline.execute({}, undefined, { runId: 'drain', signal: controller.signal, onEvent: (event) => event.type === 'step.failed' && setTimeout(() => controller.abort(), 5) }),
    );
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).stepId).toBe('bad');
    expect((await store.getRun('drain'))!.run).toMatchObject({ status: 'failed', error: { message: 'bad' } });
  });
});

describe('durable runs: the run budget across processes', () => {
  it("keeps the run's spent total in the store, and a resume starts from it (runCostBudget)", async () => {
    const store = new MemoryRunStore();
    const agent = createMockAgent([{ output: 'x', costMicrocents: 600 }]);
    let stop = true;
    const pipeline = new Pipeline({
      name: 'budget',
      store,
      config: new PipelineConfig({ runCostBudget: 1_000 }),
      steps: {
        first: step(async (ctx: StepContext) => (await ctx.run(agent, 'one')).output),
        gate: step(() => (stop ? new ConversationState({ status: ConversationStatus.INCOMPLETE }) : 'go')),
        second: step(async (ctx: StepContext) => (await ctx.run(agent, 'two')).output),
        third: step(async (ctx: StepContext) => (await ctx.run(agent, 'three')).output),
      },
      dependencies: { gate: ['first'], second: ['gate'], third: ['second'] },
    });
    const turn1 = await pipeline.execute({});
    expect((await store.getRun(turn1.runId))?.run.costMicrocents).toBe(600);
    stop = false;
    // 600 spent before: the second call (1,200 in all) crosses the budget, the third is refused.
    const error = await rejectionOf(pipeline.resume(turn1.runId));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).stepId).toBe('third');
    expect((error as StepExecutionError).message).toMatch(/run cost 1200 microcents >= budget 1000/);
    expect((await store.getRun(turn1.runId))?.run.costMicrocents).toBe(1_200);
  });
});
