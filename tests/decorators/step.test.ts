import { BaseStep, DEPS, Pipeline, PipelineConfig, PipelineValidationError, Step, StepConfig, type StepContext } from 'fastroai';
import { readStepMetadata } from '../../decorators/metadata';
import { container, inject } from 'tsyringe';

describe('@Step', () => {
  it('records no id and no config for @Step()', () => {
    @Step()
    class ExtractStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    expect(readStepMetadata(ExtractStep)).toEqual({ id: undefined, config: {} });
  });

  it('records an explicit id apart from the config fields', () => {
    @Step({ id: 'ocr', timeout: 30, retries: 2, retryDelay: 0.5, costBudget: 1_000 })
    class ExtractStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    expect(readStepMetadata(ExtractStep)).toEqual({
      id: 'ocr',
      config: { timeout: 30, retries: 2, retryDelay: 0.5, costBudget: 1_000 },
    });
  });

  it('records only on the decorated class, not on a subclass', () => {
    @Step({ id: 'base' })
    class ParentStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    class ChildStep extends ParentStep {}
    expect(readStepMetadata(ParentStep)?.id).toBe('base');
    expect(readStepMetadata(ChildStep)).toBeUndefined();
  });

  it('gives the default id: class name without a trailing Step, first letter lowercased', () => {
    @Step()
    class ExtractStep extends BaseStep {
      execute() {
        return 'e';
      }
    }
    @Step()
    class FetchMarketStep extends BaseStep {
      execute() {
        return 'm';
      }
    }
    @Step()
    class Summarize extends BaseStep {
      execute() {
        return 's';
      }
    }
    const pipeline = Pipeline.fromSteps({ name: 'ids', steps: [ExtractStep, FetchMarketStep, Summarize], outputStep: 'summarize' });
    expect(pipeline.levels).toEqual([['extract', 'fetchMarket', 'summarize']]);
  });

  it('uses the explicit id over the default one', async () => {
    @Step({ id: 'ocr' })
    class ExtractStep extends BaseStep<unknown, string> {
      execute() {
        return 'text';
      }
    }
    const pipeline = Pipeline.fromSteps({ name: 'explicit', steps: [ExtractStep] });
    expect(pipeline.levels).toEqual([['ocr']]);
    expect((await pipeline.execute({})).stepOutputs).toEqual({ ocr: 'text' });
  });

  it("makes @Step's config the step's own config, under stepConfigs and over the pipeline's", async () => {
    const seen: StepConfig[] = [];
    @Step({ timeout: 12, retries: 0 })
    class ClassifyStep extends BaseStep {
      execute(ctx: StepContext) {
        seen.push(ctx.config);
        return 'ok';
      }
    }
    const pipeline = Pipeline.fromSteps({
      name: 'configs',
      steps: [ClassifyStep],
      config: new PipelineConfig({ retries: 3, retryDelay: 0.25, timeout: 99 }),
      stepConfigs: { classify: new StepConfig({ retryDelay: 2 }) },
    });
    await pipeline.execute({});
    expect(seen[0]).toMatchObject({ timeout: 12, retries: 0, retryDelay: 2, costBudget: null });
  });

  it('retries a failing step as many times as @Step says', async () => {
    let attempts = 0;
    @Step({ retries: 2, retryDelay: 0 })
    class FlakyStep extends BaseStep<unknown, number> {
      execute() {
        attempts += 1;
        if (attempts < 3) throw new Error(`attempt ${attempts} failed`);
        return attempts;
      }
    }
    const result = await Pipeline.fromSteps({ name: 'flaky', steps: [FlakyStep] }).execute({});
    expect(result.output).toBe(3);
    expect(result.timings.flaky.attempts).toBe(3);
  });

  it('makes the class injectable: constructor parameters are resolved by tsyringe', async () => {
    const GREETING = Symbol('Greeting');
    const child = container.createChildContainer();
    child.registerInstance(GREETING, 'hello');
    @Step()
    class GreetStep extends BaseStep<{ name: string }, string> {
      constructor(
        @inject(GREETING) private readonly greeting: string,
        @inject(DEPS) private readonly deps: { name: string },
      ) {
        super();
      }
      execute() {
        return `${this.greeting} ${this.deps.name}`;
      }
    }
    const pipeline = Pipeline.fromSteps<{ name: string }>({ name: 'greet', steps: [GreetStep], container: child });
    expect((await pipeline.execute({}, { name: 'Ada' })).output).toBe('hello Ada');
  });

  it('gives an instance of a @Step class its config when the instance has none', async () => {
    let seen: StepConfig | undefined;
    @Step({ timeout: 7 })
    class TimedStep extends BaseStep {
      execute(ctx: StepContext) {
        seen = ctx.config;
        return 1;
      }
    }
    await new Pipeline({ name: 'instance', steps: { timed: new TimedStep() } }).execute({});
    expect(seen?.timeout).toBe(7);
  });

  it("gives an instance its @Step config as step.config (API.md §2), which a subclass's own config field replaces", () => {
    @Step({ timeout: 7, retries: 2 })
    class TimedStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    class Overridden extends TimedStep {
      override config = new StepConfig({ retries: 5 });
    }
    @Step()
    class PlainStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    const timed = new TimedStep().config;
    expect(timed).toBeInstanceOf(StepConfig);
    expect(timed).toMatchObject({ timeout: 7, retries: 2 });
    timed!.retries = 9; // one instance's own: not the next instance's
    expect(new TimedStep().config).toMatchObject({ timeout: 7, retries: 2 });
    expect(new Overridden().config).toMatchObject({ retries: 5 });
    expect(new PlainStep().config).toBeUndefined();
  });

  it('validates its options when a pipeline is built, not when the class is declared', () => {
    // Declaring is fine: the decorator only records what it was given.
    @Step({ retries: 1.5 })
    class BadStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    expect(new BadStep().config).toBeUndefined(); // nor when an instance is made: the pipeline names the problem
    expect(() => Pipeline.fromSteps({ name: 'bad', steps: [BadStep] })).toThrow(PipelineValidationError);
    expect(() => new Pipeline({ name: 'bad', steps: { bad: new BadStep() } })).toThrow(/Invalid @Step options on BadStep/);
    expect(() => new Pipeline({ name: 'bad', steps: { bad: BadStep } })).toThrow(/Invalid @Step options on BadStep/);
  });
});
