import { shownMessageOf } from '../support/shown-message';
import { BaseStep, FastroAIError, Pipeline, PipelineConfig, PipelineValidationError, StepConfig, step, type StepContext } from 'fastroai';
import { thrownBy } from '../support/async-helpers';

const noop = () => step(() => undefined);

/** Constructs a pipeline and returns the validation error's message. */
function validationMessage(options: ConstructorParameters<typeof Pipeline>[0]): string {
  const error = thrownBy(() => new Pipeline(options));
  expect(error).toBeInstanceOf(PipelineValidationError);
  expect(error).toBeInstanceOf(FastroAIError);
  return (error as Error).message;
}

/** The message with the hint an unknown step id adds to it where a crash or a logger shows it: the first line of its stack. */
function shownMessage(options: ConstructorParameters<typeof Pipeline>[0]): string {
  validationMessage(options);
  return shownMessageOf(thrownBy(() => new Pipeline(options)));
}

describe('Pipeline validation', () => {
  it("rejects an outputStep that is not a step: outputStep 'x' not in steps", () => {
    expect(validationMessage({ name: 'p', steps: { a: noop() }, outputStep: 'x' })).toBe("outputStep 'x' not in steps");
  });

  it("rejects a dependencies key that is not a step: Dependency for unknown step: 'x'", () => {
    expect(validationMessage({ name: 'p', steps: { a: noop() }, dependencies: { x: ['a'] } })).toBe("Dependency for unknown step: 'x'");
  });

  it("rejects a dependency that is not a step: Step 'a' depends on unknown: 'x' (the message exactly; the hint on its stack)", () => {
    const error = thrownBy(() => new Pipeline({ name: 'p', steps: { a: noop() }, dependencies: { a: ['x'] } })) as Error & { hint?: string };
    expect(error.message).toBe("Step 'a' depends on unknown: 'x'");
    expect(error.hint).toBe("Known steps: ['a']");
    expect(error.stack!.split('\n')[0]).toMatch(/Step 'a' depends on unknown: 'x'\. Known steps: \['a'\]$/);
    expect(error).toEqual(new PipelineValidationError("Step 'a' depends on unknown: 'x'"));
  });

  it('rejects a cycle, naming it: Dependency graph has a cycle: a -> b -> a', () => {
    const message = validationMessage({ name: 'p', steps: { a: noop(), b: noop() }, dependencies: { a: ['b'], b: ['a'] } });
    expect(['Dependency graph has a cycle: a -> b -> a', 'Dependency graph has a cycle: b -> a -> b']).toContain(message);
  });

  it('rejects a step that depends on itself', () => {
    expect(validationMessage({ name: 'p', steps: { a: noop(), b: noop() }, dependencies: { b: ['b'] } })).toBe(
      'Dependency graph has a cycle: b -> b',
    );
  });

  it('rejects a pipeline without steps', () => {
    expect(validationMessage({ name: 'p', steps: {} })).toMatch(/no steps/);
  });

  it("rejects several terminal steps without outputStep: Multiple terminal steps: ['b', 'c']. Specify outputStep explicitly.", () => {
    const message = validationMessage({
      name: 'p',
      steps: { a: noop(), b: noop(), c: noop() },
      dependencies: { b: ['a'], c: ['a'] },
    });
    expect(message).toBe("Multiple terminal steps: ['b', 'c']. Specify outputStep explicitly.");
  });

  it('accepts several terminal steps when outputStep is given', () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: noop(), b: noop(), c: noop() }, dependencies: { b: ['a'], c: ['a'] }, outputStep: 'b' });
    expect(pipeline.outputStep).toBe('b');
  });

  it('rejects stepConfigs for a step that does not exist', () => {
    expect(validationMessage({ name: 'p', steps: { a: noop() }, stepConfigs: { x: new StepConfig() } })).toMatch(
      /^stepConfigs for unknown step: 'x'/,
    );
  });

  describe('a misspelt step id lists the known steps and suggests the nearest', () => {
    const steps = () => ({ extract: noop(), classify: noop(), summarize: noop() });
    const known = "Known steps: ['extract', 'classify', 'summarize']";

    it('in dependencies', () => {
      expect(shownMessage({ name: 'p', steps: steps(), dependencies: { classify: ['extrct'] }, outputStep: 'classify' })).toBe(
        `Step 'classify' depends on unknown: 'extrct'. ${known}. Did you mean 'extract'?`,
      );
    });

    it('as a dependencies key', () => {
      expect(shownMessage({ name: 'p', steps: steps(), dependencies: { sumarize: ['classify'] } })).toBe(
        `Dependency for unknown step: 'sumarize'. ${known}. Did you mean 'summarize'?`,
      );
    });

    it('in outputStep', () => {
      expect(shownMessage({ name: 'p', steps: steps(), outputStep: 'Summarize ' })).toBe(
        `outputStep 'Summarize ' not in steps. ${known}. Did you mean 'summarize'?`,
      );
    });

    it('in stepConfigs', () => {
      expect(shownMessage({ name: 'p', steps: steps(), outputStep: 'extract', stepConfigs: { clasify: new StepConfig() } })).toBe(
        `stepConfigs for unknown step: 'clasify'. ${known}. Did you mean 'classify'?`,
      );
    });

    it('without a suggestion when no step is close', () => {
      expect(shownMessage({ name: 'p', steps: steps(), outputStep: 'render' })).toBe(`outputStep 'render' not in steps. ${known}`);
    });

    it('listing the first 20 of a large pipeline and the count of the rest', () => {
      const many: Record<string, ReturnType<typeof noop>> = {};
      for (let i = 0; i < 1_500; i++) many[`step${i}`] = noop();
      const message = shownMessage({ name: 'p', steps: many, outputStep: 'stepp1499' });
      expect(message).toMatch(/^outputStep 'stepp1499' not in steps\. Known steps: \['step0', 'step1', .*'step19'\] and 1,480 more\. Did you mean 'step1499'\?$/);
    });
  });

  it('rejects a config that is not a config', () => {
    expect(validationMessage({ name: 'p', steps: { a: noop() }, config: 5 as never })).toMatch(/^Pipeline config must be a PipelineConfig/);
  });

  it('rejects a missing or empty name', () => {
    expect(validationMessage({ name: '', steps: { a: noop() } })).toMatch(/name must be a non-empty string/);
    expect(validationMessage({ steps: { a: noop() } } as never)).toMatch(/name must be a non-empty string, got undefined/);
  });
});

describe('Pipeline properties', () => {
  it('exposes its name', () => {
    expect(new Pipeline({ name: 'document_processor', steps: { a: noop() } }).name).toBe('document_processor');
  });

  it('defaults outputStep to the single step of the last level', () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: noop(), b: noop(), c: noop() },
      dependencies: { c: ['b'], b: ['a'] },
    });
    expect(pipeline.outputStep).toBe('c');
  });

  it('defaults outputStep to the single deepest step even when shallower steps are also terminal', () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: noop(), side: noop(), b: noop() },
      dependencies: { b: ['a'] },
    });
    expect(pipeline.outputStep).toBe('b');
  });

  it('computes levels: level(s) = 1 + max level of its deps, ids in declaration order', () => {
    const pipeline = new Pipeline({
      name: 'doc',
      steps: { extract: noop(), classify: noop(), fetchUser: noop(), fetchMarket: noop(), calculate: noop() },
      dependencies: {
        classify: ['extract'],
        fetchMarket: ['classify'],
        fetchUser: ['extract'],
        calculate: ['fetchMarket', 'fetchUser'],
      },
    });
    expect(pipeline.levels).toEqual([['extract'], ['classify', 'fetchUser'], ['fetchMarket'], ['calculate']]);
  });

  it('accepts BaseStep subclasses, function steps and step classes', async () => {
    class Double extends BaseStep<unknown, number> {
      execute(ctx: StepContext) {
        return ctx.getInput<number>('n') * 2;
      }
    }
    class AddOne extends BaseStep<unknown, number> {
      execute(ctx: StepContext) {
        return ctx.getDependency<number>('double') + 1;
      }
    }
    const pipeline = new Pipeline({
      name: 'p',
      steps: { double: new Double(), addOne: AddOne, square: step((ctx) => ctx.getDependency<number>('addOne') ** 2) },
      dependencies: { addOne: ['double'], square: ['addOne'] },
    });
    const result = await pipeline.execute({ n: 3 });
    expect(result.stepOutputs).toEqual({ double: 6, addOne: 7, square: 49 });
    expect(result.output).toBe(49);
  });

  it('uses a BaseStep config field', async () => {
    let calls = 0;
    class Flaky extends BaseStep {
      override config = new StepConfig({ retries: 1, retryDelay: 0.001 });
      execute() {
        if (++calls === 1) throw new Error('first try fails');
        return 'ok';
      }
    }
    const result = await new Pipeline({ name: 'p', steps: { flaky: new Flaky() } }).execute({});
    expect(result.output).toBe('ok');
    expect(calls).toBe(2);
  });

  it('accepts a PipelineConfig', () => {
    expect(() => new Pipeline({ name: 'p', steps: { a: noop() }, config: new PipelineConfig({ maxConcurrency: 2 }) })).not.toThrow();
  });
});

describe('step()', () => {
  it('makes a step with a default StepConfig (overriding nothing) from a bare sync function', async () => {
    const s = step(() => 42);
    expect(s.config).toBeInstanceOf(StepConfig);
    expect(s.config).toMatchObject({ timeout: null, retries: 0, retryDelay: 1, costBudget: null });
    expect(await new Pipeline({ name: 'p', steps: { s } }).execute({})).toMatchObject({ output: 42 });
  });

  it("lets a bare function step inherit the pipeline's retries (its default config gives no field)", async () => {
    let calls = 0;
    const flaky = step(() => {
      if (++calls < 3) throw new Error(`failure ${calls}`);
      return 'ok';
    });
    const pipeline = new Pipeline({ name: 'p', steps: { flaky }, config: new PipelineConfig({ retries: 2, retryDelay: 0.001 }) });
    const result = await pipeline.execute({});
    expect(result.output).toBe('ok');
    expect(calls).toBe(3);
    expect(result.timings.flaky.attempts).toBe(3);
  });

  it('makes a step from an async function', async () => {
    const s = step(async () => 'async');
    expect((await new Pipeline({ name: 'p', steps: { s } }).execute({})).output).toBe('async');
  });

  it('takes options first: step(options, fn)', () => {
    const s = step({ timeout: 3, retries: 1 }, () => 1);
    expect(s.config).toBeInstanceOf(StepConfig);
    expect(s.config).toMatchObject({ timeout: 3, retries: 1 });
  });

  it('curries: step(options)(fn)', async () => {
    const s = step({ retries: 2 })(() => 'curried');
    expect(s.config?.retries).toBe(2);
    expect((await new Pipeline({ name: 'p', steps: { s } }).execute({})).output).toBe('curried');
  });

  it('rejects invalid options at once', () => {
    expect(() => step({ retries: -1 }, () => 1)).toThrow(PipelineValidationError);
  });

  it('rejects something that is not a function', () => {
    expect(() => step({ retries: 1 }, 'nope' as never)).toThrow(/step\(\) expects a function, got string/);
  });
});
