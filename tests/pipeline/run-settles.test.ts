import { getEventListeners } from 'node:events';
import { filter, firstValueFrom, lastValueFrom, takeWhile } from 'rxjs';
import { Lifecycle, container as rootContainer, scoped, type DependencyContainer } from 'tsyringe';
import {
  BaseStep,
  Pipeline,
  PipelineAbortedError,
  PipelineConfig,
  Step,
  StepExecutionError,
  step,
  type PipelineEvent,
  type Tracer,
} from 'fastroai';
import { deferred, flush, rejectionOf, sleep, within } from '../support/async-helpers';

/** A pipeline of two root steps and a join, counting how often each body runs. */
function countingPipeline(config?: PipelineConfig) {
  const runs: Record<string, number> = { a: 0, b: 0, c: 0 };
  const body = (id: string) =>
    step(() => {
      runs[id] += 1;
      return id;
    });
  const pipeline = new Pipeline({
    name: 'counted',
    steps: { a: body('a'), b: body('b'), c: body('c') },
    dependencies: { c: ['a', 'b'] },
    config,
  });
  return { pipeline, runs };
}

/** Runs `fn` with console.warn silenced; returns what was warned. */
async function withWarnings<T>(fn: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const spy = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  });
  try {
    return { value: await fn(), warnings };
  } finally {
    spy.mockRestore();
  }
}

const NEVER = Symbol('never settled');

describe('a run always settles: cancelled from an event handler', () => {
  it('aborting the signal from a pipeline.started handler aborts the run before any step starts', async () => {
    const { pipeline, runs } = countingPipeline();
    const controller = new AbortController();
    const events: string[] = [];
    const error = await new Promise<unknown>((resolve, reject) => {
      pipeline.run({}, undefined, { signal: controller.signal }).subscribe({
        next: (event) => {
          events.push(event.type);
          if (event.type === 'pipeline.started') controller.abort('stop now');
        },
        error: resolve,
        complete: () => reject(new Error('the run completed')),
      });
    });
    expect(PipelineAbortedError.isInstance(error)).toBe(true);
    expect(runs).toEqual({ a: 0, b: 0, c: 0 });
    expect(events).toEqual(['pipeline.started']);
  });

  it('unsubscribing inside next() at pipeline.started starts no step (firstValueFrom)', async () => {
    const { pipeline, runs } = countingPipeline();
    const first = await firstValueFrom(pipeline.run({}));
    expect(first.type).toBe('pipeline.started');
    await flush();
    expect(runs).toEqual({ a: 0, b: 0, c: 0 });
  });

  it('unsubscribing inside next() at the first step.started runs no step body', async () => {
    const { pipeline, runs } = countingPipeline();
    // The operators users write: both unsubscribe from inside the first step.started's next().
    const started = await firstValueFrom(pipeline.run({}).pipe(filter((event) => event.type === 'step.started')));
    expect(started).toMatchObject({ type: 'step.started', stepId: 'a' });
    await lastValueFrom(pipeline.run({}).pipe(takeWhile((event) => event.type !== 'step.started', true)));
    await flush();
    expect(runs).toEqual({ a: 0, b: 0, c: 0 });
  });
});

describe('a run always settles: misbehaving tracers', () => {
  /** A tracer whose span misbehaves as `span` says; metrics and errors are ignored. */
  function tracerWith(span: Tracer['span']): Tracer {
    return { span, logMetric: () => undefined, logError: () => undefined };
  }

  it('a span that awaits before calling fn: an abort during the wait rejects the run, and no step runs after', async () => {
    const gate = deferred();
    const tracer = tracerWith(async (_name, fn) => {
      await gate.promise;
      return fn('trace');
    });
    const { pipeline, runs } = countingPipeline();
    const controller = new AbortController();
    const running = pipeline.execute({}, undefined, { tracer, signal: controller.signal });
    await flush();
    controller.abort('cancel');
    const outcome = await within(rejectionOf(running), 2000, NEVER);
    expect(PipelineAbortedError.isInstance(outcome)).toBe(true);
    gate.resolve();
    await flush();
    expect(runs).toEqual({ a: 0, b: 0, c: 0 });
  });

  it('a span that never calls fn: an abort still rejects the run', async () => {
    const tracer = tracerWith(() => new Promise<never>(() => undefined));
    const { pipeline } = countingPipeline();
    const controller = new AbortController();
    const running = pipeline.execute({}, undefined, { tracer, signal: controller.signal });
    await flush();
    controller.abort('cancel');
    const outcome = await within(rejectionOf(running), 2000, NEVER);
    expect(PipelineAbortedError.isInstance(outcome)).toBe(true);
  });

  it("a span that never calls fn and never settles (the run's, its steps'): they go on untraced after a grace, reported once, and the run completes", async () => {
    const tracer = tracerWith(() => new Promise<never>(() => undefined));
    const { pipeline, runs } = countingPipeline();
    const { value: result, warnings } = await withWarnings(() => within(pipeline.execute({}, undefined, tracer), 10_000, NEVER as never));
    expect(result.output).toBe('c');
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/tracer span 'pipeline\..*' .*did not call its function within 1000 ms/);
  });

  it('a span that settles without calling fn: the run goes on untraced and completes', async () => {
    const tracer = tracerWith(async () => undefined as never);
    const { pipeline, runs } = countingPipeline();
    const { value: result } = await withWarnings(() => within(pipeline.execute({}, undefined, tracer), 2000, NEVER as never));
    expect(result.output).toBe('c');
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('a span that calls fn twice runs every step body once', async () => {
    const tracer = tracerWith(async (_name, fn) => {
      void fn('first').catch(() => undefined);
      return fn('second');
    });
    const { pipeline, runs } = countingPipeline();
    const result = await within(pipeline.execute({}, undefined, tracer), 2000, NEVER as never);
    expect(result.output).toBe('c');
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
  });

  it('a span that throws synchronously: execute() returns a promise, the run completes, no listener stays on the signal', async () => {
    const tracer = tracerWith(() => {
      throw new Error('tracer backend down');
    });
    const { pipeline, runs } = countingPipeline();
    const controller = new AbortController();
    let running: Promise<unknown> | undefined;
    const { value: result, warnings } = await withWarnings(async () => {
      running = pipeline.execute({}, undefined, { tracer, signal: controller.signal });
      return running;
    });
    expect(running).toBeInstanceOf(Promise);
    expect((result as { output: unknown }).output).toBe('c');
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(warnings.join('\n')).toContain('tracer backend down');
  });

  it('a span that returns another value or rejects does not change the outcome', async () => {
    const tracer = tracerWith(async (name, fn) => {
      await fn('trace');
      if (name.startsWith('step.')) throw new Error('span export failed');
      return 'not the result' as never;
    });
    const { pipeline } = countingPipeline();
    const { value: result } = await withWarnings(() => pipeline.execute({}, undefined, tracer));
    expect(result.output).toBe('c');
    expect(result.stepOutputs).toEqual({ a: 'a', b: 'b', c: 'c' });
  });
});

describe('a run always settles: odd thrown values', () => {
  function throwing(value: () => unknown) {
    return new Pipeline({ name: 'odd', steps: { a: step(() => { throw value(); }) } });
  }

  it('a thrown object whose message getter throws fails the run with StepExecutionError', async () => {
    const odd = Object.create(Error.prototype, {
      message: {
        get() {
          throw new Error('no message for you');
        },
      },
    });
    const outcome = await within(rejectionOf(throwing(() => odd).execute({})), 2000, NEVER);
    expect(StepExecutionError.isInstance(outcome)).toBe(true);
    expect((outcome as StepExecutionError).stepId).toBe('a');
  });

  it('a thrown revoked Proxy fails the run with StepExecutionError', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const outcome = await within(rejectionOf(throwing(() => proxy).execute({})), 2000, NEVER);
    expect(StepExecutionError.isInstance(outcome)).toBe(true);
    expect((outcome as Error).message).toMatch(/^Step 'a' failed: /);
  });

  it('a revoked Proxy thrown from an async step, with retries and onError continue, settles the run', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const pipeline = new Pipeline({
      name: 'odd',
      steps: {
        a: step({ retries: 1, retryDelay: 0 }, async () => {
          await flush();
          throw proxy;
        }),
        b: step(() => 'b'),
      },
      outputStep: 'b',
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await within(pipeline.execute({}), 2000, NEVER as never);
    expect(Object.keys(result.errors)).toEqual(['a']);
    expect(result.output).toBe('b');
  });
});

describe('a run leaves nothing pending', () => {
  const pendingTimeouts = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

  it("under onError 'fail', a sibling's step timeout is cleared when the run rejects", async () => {
    const siblingStarted = deferred();
    const pipeline = new Pipeline({
      name: 'timers',
      steps: {
        fails: step(async () => {
          await siblingStarted.promise;
          throw new Error('boom');
        }),
        slow: step({ timeout: 3600 }, async (ctx) => {
          siblingStarted.resolve();
          await sleep(3_600_000, ctx.signal).catch(() => undefined);
          return 'late';
        }),
      },
      outputStep: 'slow',
    });
    const before = pendingTimeouts();
    const error = await rejectionOf(pipeline.execute({}));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    await flush();
    expect(pendingTimeouts()).toBe(before);
  });
});

describe('a run disposes its DI child container', () => {
  let disposed: string[];

  @scoped(Lifecycle.ContainerScoped)
  class Connection {
    readonly id = Math.random().toString(36).slice(2);
    dispose(): void {
      disposed.push(this.id);
    }
  }

  @Step()
  class UseStep extends BaseStep<unknown, string> {
    constructor(private readonly connection: Connection) {
      super();
    }
    execute() {
      return this.connection.id;
    }
  }

  @Step()
  class FailStep extends BaseStep<unknown, string> {
    constructor(private readonly connection: Connection) {
      super();
    }
    execute(): string {
      throw new Error(`failed with ${this.connection.id}`);
    }
  }

  let appContainer: DependencyContainer;
  beforeEach(() => {
    disposed = [];
    appContainer = rootContainer.createChildContainer();
  });

  it('disposes the run\'s ContainerScoped services when the run completes', async () => {
    const pipeline = Pipeline.fromSteps({ name: 'di', steps: [UseStep], container: appContainer });
    const first = await pipeline.execute({});
    const second = await pipeline.execute({});
    expect(first.output).not.toBe(second.output);
    expect(disposed).toEqual([first.output, second.output]);
  });

  it('disposes them when the run fails, and a dispose that throws changes nothing', async () => {
    const pipeline = Pipeline.fromSteps({ name: 'di', steps: [FailStep], container: appContainer });
    const error = await rejectionOf(pipeline.execute({}));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect(disposed).toHaveLength(1);

    disposed = new Proxy([], {
      get(target, key) {
        if (key === 'push') throw new Error('dispose failed');
        return Reflect.get(target, key);
      },
    });
    const ok = Pipeline.fromSteps({ name: 'di', steps: [UseStep], container: appContainer });
    const { value: result, warnings } = await withWarnings(() => ok.execute({}));
    expect(typeof result.output).toBe('string');
    expect(warnings.join('\n')).toContain('dispose failed');
  });
});

describe('execute() onEvent', () => {
  it('receives every event of the run, in the order run() emits them', async () => {
    const { pipeline } = countingPipeline();
    const seen: PipelineEvent['type'][] = [];
    const result = await pipeline.execute({}, undefined, { onEvent: (event) => seen.push(event.type) });
    expect(result.output).toBe('c');
    expect(seen[0]).toBe('pipeline.started');
    expect(seen[seen.length - 1]).toBe('pipeline.completed');
    expect(seen.filter((type) => type === 'step.completed')).toHaveLength(3);
  });

  it('a handler that throws is reported once and changes nothing', async () => {
    const { pipeline, runs } = countingPipeline();
    const { value: result, warnings } = await withWarnings(() =>
      pipeline.execute({}, undefined, {
        onEvent: () => {
          throw new Error('handler bug');
        },
      }),
    );
    expect(result.output).toBe('c');
    expect(runs).toEqual({ a: 1, b: 1, c: 1 });
    expect(warnings.filter((line) => line.includes('handler bug'))).toHaveLength(1);
  });
});

