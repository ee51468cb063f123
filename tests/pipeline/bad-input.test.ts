import {
  BaseStep,
  NoOpTracer,
  Pipeline,
  PipelineConfig,
  PipelineValidationError,
  StepConfig,
  StepExecutionError,
  Step,
  step,
  type StepContext,
} from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { rejectionOf, thrownBy } from '../support/async-helpers';

const ok = () => step(() => 'ok');

/** The run's StepExecutionError; fails the test if the run resolves. */
async function failureOf(pipeline: Pipeline<any, any, any>, input: unknown = {}): Promise<StepExecutionError> {
  const error = await rejectionOf(pipeline.execute(input));
  expect(error).toBeInstanceOf(StepExecutionError);
  return error as StepExecutionError;
}

describe('bad input: steps', () => {
  it.each([
    ['a number', 42, 'got 42'],
    ['null', null, 'got null'],
    ['a string', 'extract', "got 'extract'"],
    ['an object without execute', { run: () => 1 }, 'got an object'],
    ['an object whose execute is not a function', { execute: 'yes' }, 'got an object'],
    ['an arrow function', () => 1, 'got a function'],
    ['a class without execute', class NotAStep {}, 'got a function (NotAStep)'],
  ])('rejects %s as a step, naming the step', (_label, value, got) => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: { good: ok(), bad: value as never } }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toMatch(/^Step 'bad' is not a step: expected an object with an execute\(ctx\) method/);
    expect((error as Error).message).toContain(got);
  });

  it.each([
    ['null', null],
    ['an array', [ok()]],
    ['a string', 'steps'],
  ])('rejects steps given as %s', (_label, steps) => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: steps as never }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toMatch(/^Pipeline 'p': steps must be an object of steps by id/);
  });

  it('rejects options that are not an object', () => {
    expect(() => new Pipeline(undefined as never)).toThrow(PipelineValidationError);
  });

  it("rejects the step id '__proto__', which a result record cannot hold", () => {
    const steps: Record<string, unknown> = { a: ok() };
    Object.defineProperty(steps, '__proto__', { value: ok(), enumerable: true });
    expect(() => new Pipeline({ name: 'p', steps: steps as never })).toThrow("Step id '__proto__' is not allowed");
  });

  it('runs steps whose ids are names of Object.prototype members', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        constructor: step(() => 'c'),
        hasOwnProperty: step(() => {
          throw new Error('h');
        }),
        toString: step((ctx) => `${ctx.getDependency('constructor')}!`),
        valueOf: step(() => 'never'),
      },
      dependencies: { toString: ['constructor'], valueOf: ['hasOwnProperty'] },
      outputStep: 'toString',
      stepConfigs: { constructor: new StepConfig({ retries: 0 }) },
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(result.output).toBe('c!');
    expect(Object.keys(result.stepOutputs).sort()).toEqual(['constructor', 'toString']);
    expect(Object.keys(result.errors)).toEqual(['hasOwnProperty']);
    expect(result.skipped).toEqual(['valueOf']);
    expect(Object.keys(result.timings).sort()).toEqual(['constructor', 'hasOwnProperty', 'toString']);
  });
});

describe('bad input: dependencies', () => {
  const steps = () => ({ a: ok(), b: ok() });

  it.each([
    ['a string', 'a', "got 'a'"],
    ['null', null, 'got null'],
    ['an object', { a: true }, 'got an object ([object Object])'],
    ['a number', 1, 'got 1'],
  ])('rejects a dependency list that is %s', (_label, value, got) => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: steps(), dependencies: { b: value as never } }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe(`Dependencies of step 'b' must be an array of step ids, ${got}`);
  });

  it.each([
    ['a number', 1, 'got 1'],
    ['undefined', undefined, 'got undefined'],
    ['null', null, 'got null'],
    ['a step instance', ok(), 'got an object'],
  ])('rejects a dependency entry that is %s', (_label, value, got) => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: steps(), dependencies: { b: [value as never] } }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toContain(`Dependencies of step 'b' must be step ids (strings), ${got}`);
  });

  it.each([
    ['null', null],
    ['an array', [['a']]],
    ['a string', 'b: a'],
  ])('rejects dependencies given as %s', (_label, value) => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: steps(), dependencies: value as never }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toMatch(/^dependencies must be an object mapping step ids to arrays of step ids/);
  });

  it('accepts a dependency listed twice', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: steps(), dependencies: { b: ['a', 'a'] } });
    expect((await pipeline.execute({})).output).toBe('ok');
  });
});

describe('bad input: non-Error failures', () => {
  it.each([
    ['a string', () => 'quota exceeded', "Step 'a' failed: quota exceeded"],
    ['undefined', () => undefined, "Step 'a' failed: threw undefined (not an Error)"],
    ['null', () => null, "Step 'a' failed: threw null (not an Error)"],
    ['a number', () => 404, "Step 'a' failed: threw a non-Error value: 404"],
    ['a plain object', () => ({ status: 500 }), 'Step \'a\' failed: threw a non-Error value: {"status":500}'],
  ])('wraps %s thrown by a sync step in a StepExecutionError with a useful message', async (_label, value, message) => {
    const thrown = value();
    const error = await failureOf(new Pipeline({ name: 'p', steps: { a: step(() => { throw thrown; }) } }));
    expect(error.message).toBe(message);
    expect(error.stepId).toBe('a');
    expect(error.originalError).toBeInstanceOf(Error);
    expect(error.cause).toBe(thrown);
  });

  it('wraps undefined rejected by an async step', async () => {
    const error = await failureOf(new Pipeline({ name: 'p', steps: { a: step(() => Promise.reject(undefined)) } }));
    expect(error.message).toBe("Step 'a' failed: threw undefined (not an Error)");
  });

  it('wraps a string thrown through a tracer span too', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => { throw 'traced'; }) } });
    const error = await rejectionOf(
      pipeline.execute({}, undefined, { span: (_n, fn) => fn('t'), logMetric: () => undefined, logError: () => undefined }),
    );
    expect((error as Error).message).toBe("Step 'a' failed: traced");
  });

  it('records a non-Error failure as an Error under onError continue', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step(() => { throw 'nope'; }), b: ok() },
      outputStep: 'b',
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(result.errors.a).toBeInstanceOf(StepExecutionError);
    expect(result.errors.a.message).toBe("Step 'a' failed: nope");
  });
});

describe('bad input: thenables', () => {
  it('fails the step when it returns a rejected thenable (a plain object with then)', async () => {
    const thenable = { then: (_resolve: (value: unknown) => void, reject: (reason: unknown) => void) => reject(new Error('thenable rejected')) };
    const error = await failureOf(new Pipeline({ name: 'p', steps: { a: step(() => thenable as unknown as Promise<string>) } }));
    expect(error.message).toBe("Step 'a' failed: thenable rejected");
  });

  it('fails the step when a thenable rejects with a non-Error', async () => {
    const thenable = { then: (_resolve: unknown, reject: (reason: unknown) => void) => reject('bad thenable') };
    const error = await failureOf(new Pipeline({ name: 'p', steps: { a: step(() => thenable as unknown as Promise<string>) } }));
    expect(error.message).toBe("Step 'a' failed: bad thenable");
  });

  it('fails the step when a thenable then throws', async () => {
    const thenable = {
      then() {
        throw new Error('then exploded');
      },
    };
    const error = await failureOf(new Pipeline({ name: 'p', steps: { a: step(() => thenable as unknown as Promise<string>) } }));
    expect(error.message).toBe("Step 'a' failed: then exploded");
  });

  it('adopts a thenable that resolves', async () => {
    const thenable = { then: (resolve: (value: string) => void) => resolve('from thenable') };
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => thenable as unknown as Promise<string>) } });
    expect((await pipeline.execute({})).output).toBe('from thenable');
  });

  it('fails the step when an async step resolves to a rejected thenable', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step(async () => ({ then: (_r: unknown, reject: (e: unknown) => void) => reject(new Error('late')) }) as unknown as string) },
    });
    expect((await failureOf(pipeline)).message).toBe("Step 'a' failed: late");
  });
});

describe('bad input: inputs', () => {
  it('fails the step that reads a missing input key with a clear error naming the step', async () => {
    class SplitStep extends BaseStep<unknown, string[]> {
      execute(ctx: StepContext) {
        return ctx.getInput<string>('document').split(' ');
      }
    }
    const error = await failureOf(new Pipeline({ name: 'p', steps: { split: new SplitStep() } }), { doc: 'typo in key' });
    expect(error.stepId).toBe('split');
    expect(error.originalError).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/^Step 'split' failed: .*split/);
  });

  it('hands undefined, not an error, for a missing key without a default', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { read: step((ctx) => ({ value: ctx.getInput('missing') })) } });
    expect((await pipeline.execute({})).output).toEqual({ value: undefined });
  });

  it('runs with undefined input as { data: undefined }', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { read: step((ctx) => [ctx.getInput('data', 'default'), ctx.getInput('x', 'd')]) } });
    expect((await pipeline.execute(undefined as never)).output).toEqual([undefined, 'd']);
  });
});

describe('bad input: huge fan-in', () => {
  it('skips a step depending on 10,000 others when one of them fails, and reports it', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `s${i}`);
    const steps: Record<string, ReturnType<typeof ok>> = {};
    for (const id of ids) steps[id] = ok();
    steps.s5000 = step(() => {
      throw new Error('one bad leaf');
    });
    steps.sink = ok();
    const pipeline = new Pipeline({
      name: 'fan-in',
      steps,
      dependencies: { sink: ids },
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(Object.keys(result.errors)).toEqual(['s5000']);
    expect(result.skipped).toEqual(['sink']);
    expect(result.output).toBeUndefined();
    expect(Object.keys(result.stepOutputs)).toHaveLength(9_999);
  }, 60_000);

  it('builds a fan-in of 10,000; its getDependency error lists the first 50 ids of Available and counts the rest', async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `s${i}`);
    const steps: Record<string, BaseStep<any, unknown>> = {};
    for (const id of ids) steps[id] = ok();
    let message = '';
    steps.sink = step((ctx) => {
      try {
        ctx.getDependency('unknown');
      } catch (error) {
        message = (error as Error).message;
      }
    });
    await new Pipeline({ name: 'fan-in', steps, dependencies: { sink: ids } }).execute({});
    expect(message.startsWith("Step 'unknown' not a dependency of 'sink' or hasn't completed. Available: ['s0', 's1', ")).toBe(true);
    expect(message.endsWith("'s49', … 9950 more]")).toBe(true);
  }, 60_000);
});

describe('bad input: timeouts and retries', () => {
  it.each([
    ['timeout', -1],
    ['timeout', Number.NaN],
    ['retries', -1],
    ['retries', Number.NaN],
    ['retries', 0.5],
    ['retryDelay', -1],
    ['costBudget', Number.NaN],
  ])('rejects %s = %p in step(options, fn)', (field, value) => {
    expect(() => step({ [field]: value }, () => 1)).toThrow(PipelineValidationError);
  });

  it.each([
    ['timeout', -2],
    ['retries', Number.NaN],
  ])('rejects %s = %p in stepConfigs given as a plain object, at construction', (field, value) => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: { a: ok() }, stepConfigs: { a: { [field]: value } as never } }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toContain(`StepConfig.${field}`);
  });

  it('rejects a stepConfigs entry that is not a config', () => {
    expect(() => new Pipeline({ name: 'p', steps: { a: ok() }, stepConfigs: { a: 3 as never } })).toThrow(
      "stepConfigs['a'] must be a StepConfig, got 3",
    );
  });

  it.each([
    ['timeout', -1],
    ['retries', -3],
    ['maxConcurrency', Number.NaN],
  ])('rejects %s = %p in a pipeline config given as a plain object', (field, value) => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: { a: ok() }, config: { [field]: value } as never }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toContain(`PipelineConfig.${field}`);
  });

  it('rejects a step whose own config is a plain object with a bad field', () => {
    const bad = { config: { retries: -1 }, execute: () => 1 };
    expect(() => new Pipeline({ name: 'p', steps: { a: bad as never } })).toThrow(/StepConfig\.retries/);
  });

  it.each([
    [{ timeout: -1 }, 'ctx.run timeout must be a number of seconds >= 0, got -1'],
    [{ timeout: Number.NaN }, 'ctx.run timeout must be a number of seconds >= 0, got NaN'],
    [{ retries: -1 }, 'ctx.run retries must be an integer >= 0, got -1'],
    [{ retries: Number.NaN }, 'ctx.run retries must be an integer >= 0, got NaN'],
  ])('fails the step, without retrying it, for ctx.run options %p', async (options, message) => {
    const agent = createMockAgent([{ output: 'x' }]);
    let attempts = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 2, retryDelay: 0.001 }, (ctx) => {
          attempts++;
          return ctx.run(agent, 'hi', options);
        }),
      },
    });
    const error = await failureOf(pipeline);
    expect(error.originalError).toBeInstanceOf(TypeError);
    expect(error.message).toBe(`Step 'a' failed: ${message}`);
    expect(agent.calls).toHaveLength(0);
    expect(attempts).toBe(1);
  });
});

describe('bad input: misspelt option keys', () => {
  it('refuses a misspelt Pipeline option, naming the nearest one', () => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: { a: ok() }, outputstep: 'a' } as never));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe(
      "Pipeline options: unknown option 'outputstep' (known: name, steps, dependencies, outputStep, config, stepConfigs, container, store). Did you mean 'outputStep'?",
    );
    expect(() => new Pipeline({ name: 'p', steps: { a: ok() }, dependecies: {} } as never)).toThrow(/Did you mean 'dependencies'\?$/);
  });

  it('refuses a misspelt Pipeline.fromSteps option, and dependencies (they come from @DependsOn)', () => {
    @Step()
    class OnlyStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    const error = thrownBy(() => Pipeline.fromSteps({ name: 'p', steps: [OnlyStep], stepconfigs: {} } as never));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toMatch(/^Pipeline\.fromSteps options: unknown option 'stepconfigs' .*Did you mean 'stepConfigs'\?$/);
    expect(() => Pipeline.fromSteps({ name: 'p', steps: [OnlyStep], dependencies: {} } as never)).toThrow(
      /Pipeline\.fromSteps options: unknown option 'dependencies'/,
    );
  });

  it('refuses a misspelt config key in a pipeline config given as a plain object', () => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: { a: ok() }, config: { maxConcurency: 2 } as never }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toMatch(/^PipelineConfig options: unknown option 'maxConcurency' .*Did you mean 'maxConcurrency'\?$/);
  });

  it('refuses a misspelt key in stepConfigs given as a plain object', () => {
    expect(() => new Pipeline({ name: 'p', steps: { a: ok() }, stepConfigs: { a: { retires: 2 } as never } })).toThrow(
      /^StepConfig options: unknown option 'retires' .*Did you mean 'retries'\?$/,
    );
  });

  it('refuses a misspelt key in step(options, fn) and step(options)(fn)', () => {
    expect(() => step({ timout: 5 } as never, () => 1)).toThrow(/^StepConfig options: unknown option 'timout' .*Did you mean 'timeout'\?$/);
    expect(() => step({ retires: 5 } as never)).toThrow(PipelineValidationError);
  });

  it("refuses a misspelt key in a step's own config given as a plain object", () => {
    const bad = { config: { retryDelays: 1 }, execute: () => 1 };
    expect(() => new Pipeline({ name: 'p', steps: { a: bad as never } })).toThrow(/Did you mean 'retryDelay'\?$/);
  });
});

describe('bad input: execute() and run() options', () => {
  const pipeline = () => new Pipeline({ name: 'p', steps: { a: ok() } });
  const noop = () => undefined;

  it.each([
    ['a signal that is not an AbortSignal', { signal: { aborted: false } }, /^execute\(\) options\.signal must be an AbortSignal, got an object/],
    ['a signal that is a string', { signal: 'abort' }, /^execute\(\) options\.signal must be an AbortSignal, got 'abort'$/],
    ['a tracer that is not a tracer', { tracer: {} }, /^execute\(\) options\.tracer must be a Tracer .*it has no span, logMetric, logError methods$/],
    ['a tracer without logError', { tracer: { span: (_: string, fn: () => unknown) => fn(), logMetric: noop } }, /it has no logError method$/],
    ['a tracer that is a number', { tracer: 5 }, /^execute\(\) options\.tracer must be a Tracer .*got 5$/],
    ['an onEvent that is not a function', { onEvent: 'log' }, /^execute\(\) options\.onEvent must be a function, got 'log'$/],
    ['an empty runId', { runId: '' }, /^execute\(\) options\.runId must be a non-empty string, got ''$/],
    ['a misspelt key', { singal: new AbortController().signal }, /^execute\(\) options: unknown option 'singal' .*Did you mean 'signal'\?$/],
    ['a third argument that is a number', 7, /^execute\(\) expects a Tracer or ExecuteOptions as its third argument, got 7$/],
  ])('rejects (never throws) for %s, naming the option', async (_label, options, message) => {
    let returned: Promise<unknown> | undefined;
    expect(() => {
      returned = pipeline().execute({}, undefined, options as never);
    }).not.toThrow();
    const error = await rejectionOf(returned!);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a partial tracer given as the third argument, naming what it lacks', async () => {
    const error = await rejectionOf(pipeline().execute({}, undefined, { span: (_n: string, fn: () => Promise<unknown>) => fn() } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      'execute() tracer (third argument) must be a Tracer (span, logMetric and logError methods); it has no logMetric, logError methods',
    );
  });

  it('accepts every key of API.md ExecuteOptions', async () => {
    const options = { tracer: new NoOpTracer(), signal: new AbortController().signal, runId: 'r1', onEvent: noop };
    expect((await pipeline().execute({}, undefined, options)).output).toBe('ok');
  });

  it('uses a tracer given as the third argument of run()', async () => {
    const spans: string[] = [];
    const tracer = {
      span: <T>(name: string, fn: (traceId: string) => Promise<T>) => {
        spans.push(name);
        return fn('t');
      },
      logMetric: noop,
      logError: noop,
    };
    const events = await lastValueFrom(pipeline().run({}, undefined, tracer).pipe(toArray()));
    expect(events.at(-1)?.type).toBe('pipeline.completed');
    expect(spans).toEqual(['pipeline.p', 'step.a']);
  });

  it('errors the run() stream, without starting a step, for bad options', async () => {
    let ran = false;
    const p = new Pipeline({ name: 'p', steps: { a: step(() => (ran = true)) } });
    const error = await rejectionOf(lastValueFrom(p.run({}, undefined, { signal: 'stop' } as never)));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe("run() options.signal must be an AbortSignal, got 'stop'");
    const tracerError = await rejectionOf(lastValueFrom(p.run({}, undefined, { span: noop } as never)));
    expect((tracerError as Error).message).toMatch(/^run\(\) tracer \(third argument\) must be a Tracer/);
    expect(ran).toBe(false);
  });
});

describe('errors as a user reads them', () => {
  it("says which step timed out as API.md §8 words it: Step 'x' failed: <original message>", async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { call: step({ timeout: 0.02 }, (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))) },
    });
    const error = await failureOf(pipeline);
    expect(error.message).toBe("Step 'call' failed: Step 'call' timed out after 0.02s (attempt 1)");
    expect(error.originalError.message).toBe("Step 'call' timed out after 0.02s (attempt 1)");
  });

  it('serializes result.errors with the name, code, message, step and cause of each', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step(() => { throw new RangeError('bad range'); }), b: ok() },
      outputStep: 'b',
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    expect(JSON.parse(JSON.stringify(result.errors))).toEqual({
      a: {
        name: 'StepExecutionError',
        code: 'fastroai:step-execution',
        message: "Step 'a' failed: bad range",
        stepId: 'a',
        cause: { name: 'RangeError', message: 'bad range' },
      },
    });
  });
});

describe('execute() never throws synchronously', () => {
  it('returns a promise, instead of throwing, when the tracer span throws synchronously (the run goes on untraced, API.md §10)', async () => {
    const tracer = {
      span: () => {
        throw new Error('span exploded');
      },
      logMetric: () => undefined,
      logError: () => undefined,
    };
    const pipeline = new Pipeline({ name: 'p', steps: { a: ok() } });
    let returned: Promise<unknown> | undefined;
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(() => {
        returned = pipeline.execute({}, undefined, { tracer: tracer as never });
      }).not.toThrow();
      await expect(returned).resolves.toMatchObject({ output: 'ok' });
    } finally {
      warn.mockRestore();
    }
  });
});
