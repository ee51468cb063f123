import { BaseStep, NoOpTracer, Pipeline, SimpleTracer, StepConfig, StepContext, StepUsage, step, type Tracer } from 'fastroai';
import { thrownBy } from '../support/async-helpers';

function context(options: Partial<ConstructorParameters<typeof StepContext>[0]> = {}) {
  return new StepContext({ stepId: 'summarize', inputs: {}, deps: undefined, stepOutputs: {}, ...options });
}

describe('StepContext built by hand', () => {
  it('exposes stepId and deps', () => {
    const deps = { api: 'client' };
    const ctx = context({ deps });
    expect(ctx.stepId).toBe('summarize');
    expect(ctx.deps).toBe(deps);
  });

  it('uses a NoOpTracer when none was given', () => {
    const ctx = context();
    expect(ctx.tracer).toBeInstanceOf(NoOpTracer);
  });

  it('uses the tracer it was given', () => {
    const tracer = new SimpleTracer({ info: jest.fn(), error: jest.fn(), debug: jest.fn() });
    expect(context({ tracer }).tracer).toBe(tracer);
  });

  it('uses a default StepConfig when none was given', () => {
    const ctx = context();
    expect(ctx.config).toBeInstanceOf(StepConfig);
    expect(ctx.config).toMatchObject({ timeout: null, retries: 0, retryDelay: 1, costBudget: null });
  });

  it('uses the config it was given', () => {
    const config = new StepConfig({ retries: 4 });
    expect(context({ config }).config).toBe(config);
  });

  it('starts with an empty usage', () => {
    const usage = context().usage;
    expect(usage).toBeInstanceOf(StepUsage);
    expect(usage.costMicrocents).toBe(0);
    expect(usage.requestCount).toBe(0);
  });

  it('has a signal that is not aborted, or the one it was given', () => {
    expect(context().signal.aborted).toBe(false);
    const controller = new AbortController();
    const ctx = context({ signal: controller.signal });
    expect(ctx.signal).toBe(controller.signal);
    controller.abort();
    expect(ctx.signal.aborted).toBe(true);
  });

  it('returns an input, or the default only when the key is absent', () => {
    const ctx = context({ inputs: { present: 'yes', empty: undefined, zero: 0 } });
    expect(ctx.getInput('present')).toBe('yes');
    expect(ctx.getInput('missing')).toBeUndefined();
    expect(ctx.getInput('missing', 'fallback')).toBe('fallback');
    expect(ctx.getInput('empty', 'fallback')).toBeUndefined();
    expect(ctx.getInput('zero', 5)).toBe(0);
  });

  it('returns the outputs it was given as dependencies', () => {
    const ctx = context({ stepOutputs: { extract: ['a', 'b'], classify: 'billing' } });
    expect(ctx.getDependency('extract')).toEqual(['a', 'b']);
    expect(ctx.getDependencyOrNone('classify')).toBe('billing');
  });

  it('returns an output that is undefined without throwing', () => {
    const ctx = context({ stepOutputs: { nothing: undefined } });
    expect(ctx.getDependency('nothing')).toBeUndefined();
  });

  it('throws the exact message for a step that is not among its outputs', () => {
    const ctx = context({ stepOutputs: { extract: 1, classify: 2 } });
    const error = thrownBy(() => ctx.getDependency('fetchUser'));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      "Step 'fetchUser' not a dependency of 'summarize' or hasn't completed. Available: ['extract', 'classify']",
    );
    expect(ctx.getDependencyOrNone('fetchUser')).toBeUndefined();
  });

  it('looks a dependency up by step class, using its default id', () => {
    class ExtractStep extends BaseStep<unknown, string[]> {
      execute() {
        return ['x'];
      }
    }
    class FetchMarketStep extends BaseStep<unknown, number> {
      execute() {
        return 1;
      }
    }
    const ctx = context({ stepOutputs: { extract: ['word'], fetchMarket: 7 } });
    const words: string[] = ctx.getDependency(ExtractStep);
    expect(words).toEqual(['word']);
    expect(ctx.getDependency(FetchMarketStep)).toBe(7);
    expect(ctx.getDependencyOrNone(FetchMarketStep)).toBe(7);
  });

  it('rejects a dependency reference that is neither an id nor a class', () => {
    const ctx = context();
    expect(() => ctx.getDependency(42 as never)).toThrow(TypeError);
  });
});

describe('StepContext inside a run', () => {
  it("gives the step its run's inputs, deps, tracer, id and resolved config", async () => {
    const tracer: Tracer = new NoOpTracer();
    const deps = { key: 'value' };
    let seen: StepContext<typeof deps> | undefined;
    const pipeline = new Pipeline<typeof deps>({
      name: 'p',
      steps: {
        read: step({ retries: 2 }, (ctx: StepContext<typeof deps>) => {
          seen = ctx;
          return ctx.getInput('q');
        }),
      },
    });
    const result = await pipeline.execute({ q: 'question' }, deps, tracer);
    expect(result.output).toBe('question');
    expect(seen!.stepId).toBe('read');
    expect(seen!.deps).toBe(deps);
    expect(seen!.tracer).toBe(tracer);
    expect(seen!.config.retries).toBe(2);
    expect(seen!.signal.aborted).toBe(false);
  });

  it('gives each attempt a fresh signal', async () => {
    const signals: AbortSignal[] = [];
    let calls = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 1, retryDelay: 0.001 }, (ctx) => {
          signals.push(ctx.signal);
          if (++calls === 1) throw new Error('first');
          return 'ok';
        }),
      },
    });
    await pipeline.execute({});
    expect(signals).toHaveLength(2);
    expect(signals[0]).not.toBe(signals[1]);
    expect(signals[1].aborted).toBe(false);
  });

  it('keeps usage accumulated by ctx.run readable on ctx.usage', async () => {
    let usageSeen: StepUsage | undefined;
    const agent = {
      run: async () => new (await import('fastroai')).ChatResponse({ output: 'x', content: 'x', costMicrocents: 9 }),
    };
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step(async (ctx) => {
          await ctx.run(agent, 'hi');
          usageSeen = ctx.usage;
        }),
      },
    });
    await pipeline.execute({});
    expect(usageSeen?.costMicrocents).toBe(9);
  });

  it('reads a usage of zero, not undefined, in a step that made no call', async () => {
    let usage: StepUsage | undefined;
    const result = await new Pipeline({ name: 'p', steps: { a: step((ctx) => void (usage = ctx.usage)) } }).execute({});
    expect(usage).toBeInstanceOf(StepUsage);
    expect(usage!.costMicrocents).toBe(0);
    // Reading ctx.usage is not a ctx.run call: the run still reports no usage.
    expect(result.usage).toBeUndefined();
  });
});

describe('StepContext options', () => {
  it('refuses a misspelt option, naming the nearest one', () => {
    const error = thrownBy(() => context({ stepOutput: {} } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      "StepContext options: unknown option 'stepOutput' (known: stepId, inputs, deps, stepOutputs, tracer, config, signal). Did you mean 'stepOutputs'?",
    );
  });

  it('accepts every option of API.md §5', () => {
    const ctx = context({ tracer: new NoOpTracer(), config: new StepConfig(), signal: new AbortController().signal });
    expect(ctx.stepId).toBe('summarize');
  });
});
