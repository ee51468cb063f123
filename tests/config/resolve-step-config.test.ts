import { Pipeline, PipelineConfig, PipelineValidationError, StepConfig, StepExecutionError, StepTimeoutError, step, type StepContext } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { resolveStepConfig } from '../../src/config/resolve-step-config';
import { rejectionOf, sleep } from '../support/async-helpers';
import { transientError } from '../support/transient-error';

describe('resolveStepConfig', () => {
  it('takes every field of the base config', () => {
    const base = new PipelineConfig({ timeout: 3, retries: 2, retryDelay: 0.5, costBudget: 7 });
    const resolved = resolveStepConfig(base);
    expect(resolved).toBeInstanceOf(StepConfig);
    expect(resolved).toMatchObject({ timeout: 3, retries: 2, retryDelay: 0.5, costBudget: 7 });
  });

  it('lets a field given explicitly win even when it equals the default', () => {
    const resolved = resolveStepConfig(new PipelineConfig({ retries: 2 }), new StepConfig({ retries: 0 }));
    expect(resolved.retries).toBe(0);
  });

  it('lets a field not given inherit from the less specific config', () => {
    const resolved = resolveStepConfig(new PipelineConfig({ retries: 2, timeout: 9 }), new StepConfig({ timeout: 1 }));
    expect(resolved.retries).toBe(2);
    expect(resolved.timeout).toBe(1);
  });

  it('clears an inherited timeout with an explicit timeout: null', () => {
    const resolved = resolveStepConfig(new PipelineConfig({ timeout: 5 }), new StepConfig({ timeout: null }));
    expect(resolved.timeout).toBeNull();
  });

  it('clears an inherited costBudget with an explicit costBudget: null', () => {
    const resolved = resolveStepConfig(new PipelineConfig({ costBudget: 5 }), new StepConfig({ costBudget: null }));
    expect(resolved.costBudget).toBeNull();
  });

  it('treats a field passed as undefined as not given', () => {
    const resolved = resolveStepConfig(new PipelineConfig({ retries: 4 }), new StepConfig({ retries: undefined }));
    expect(resolved.retries).toBe(4);
  });

  it('applies overrides from least to most specific, skipping undefined ones', () => {
    const resolved = resolveStepConfig(
      new PipelineConfig({ retries: 1, retryDelay: 2, timeout: 3 }),
      new StepConfig({ retries: 5, retryDelay: 0.1 }),
      undefined,
      new StepConfig({ retries: 0 }),
    );
    expect(resolved).toMatchObject({ retries: 0, retryDelay: 0.1, timeout: 3, costBudget: null });
  });

  it('does not mutate the configs it merges', () => {
    const base = new PipelineConfig({ retries: 2 });
    const override = new StepConfig({ retries: 0 });
    resolveStepConfig(base, override);
    expect(base.retries).toBe(2);
    expect(override.retries).toBe(0);
  });
});

describe('configs changed after they were made', () => {
  it('a field assigned after construction counts as given, and is checked when the pipeline is built', async () => {
    const calls = { count: 0 };
    const own = step(() => {
      calls.count++;
      throw new Error('always fails');
    });
    own.config!.retries = 2; // a step(fn)'s config, changed in place
    own.config!.retryDelay = 0.001;
    const perStep = new StepConfig();
    perStep.timeout = 5;
    const pipeline = new Pipeline({ name: 'assigned', steps: { a: own }, stepConfigs: { a: perStep } });
    await expect(pipeline.execute({})).rejects.toBeInstanceOf(StepExecutionError);
    expect(calls.count).toBe(3);
    const broken = new StepConfig();
    broken.retries = Number.NaN;
    expect(() => new Pipeline({ name: 'broken', steps: { a: step(() => 1) }, stepConfigs: { a: broken } })).toThrow(PipelineValidationError);
  });

  it('a PipelineConfig is checked and copied when the pipeline is built: a bad assignment is refused, a later one does not reach the pipeline', async () => {
    const config = new PipelineConfig();
    config.maxConcurrency = 0; // would start no step, ever
    expect(() => new Pipeline({ name: 'stuck', steps: { a: step(() => 1) }, config })).toThrow(/maxConcurrency must be an integer from 1 and up/);
    config.maxConcurrency = 1;
    const pipeline = new Pipeline({ name: 'copied', steps: { a: step(() => 1) }, config });
    config.maxConcurrency = 0;
    expect((await pipeline.execute({})).output).toBe(1);
  });
});

describe('config resolution in a pipeline', () => {
  function failingStep(calls: { count: number }, options?: ConstructorParameters<typeof StepConfig>[0]) {
    const fn = () => {
      calls.count++;
      throw new Error('always fails');
    };
    return options === undefined ? step(fn) : step(options, fn);
  }

  it('retries a step with the pipeline default when nothing more specific is given', async () => {
    const calls = { count: 0 };
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: failingStep(calls) },
      config: new PipelineConfig({ retries: 2, retryDelay: 0.001 }),
    });
    await expect(pipeline.execute({})).rejects.toBeInstanceOf(StepExecutionError);
    expect(calls.count).toBe(3);
  });

  it('lets stepConfigs retries: 0 override a pipeline default of 2', async () => {
    const calls = { count: 0 };
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: failingStep(calls) },
      config: new PipelineConfig({ retries: 2, retryDelay: 0.001 }),
      stepConfigs: { a: new StepConfig({ retries: 0 }) },
    });
    await expect(pipeline.execute({})).rejects.toBeInstanceOf(StepExecutionError);
    expect(calls.count).toBe(1);
  });

  it("lets the step's own config (step({ retries: 0 }, fn)) override a pipeline default of 2", async () => {
    const calls = { count: 0 };
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: failingStep(calls, { retries: 0 }) },
      config: new PipelineConfig({ retries: 2, retryDelay: 0.001 }),
    });
    await expect(pipeline.execute({})).rejects.toBeInstanceOf(StepExecutionError);
    expect(calls.count).toBe(1);
  });

  it("lets stepConfigs override the step's own config, field by field", async () => {
    const calls = { count: 0 };
    const seen: StepConfig[] = [];
    const a = step({ retries: 3, retryDelay: 0.001, costBudget: 99 }, (ctx: StepContext) => {
      seen.push(ctx.config);
      calls.count++;
      throw new Error('no');
    });
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a },
      config: new PipelineConfig({ timeout: 30 }),
      stepConfigs: { a: new StepConfig({ retries: 1 }) },
    });
    await expect(pipeline.execute({})).rejects.toBeInstanceOf(StepExecutionError);
    expect(calls.count).toBe(2);
    expect(seen[0]).toMatchObject({ retries: 1, retryDelay: 0.001, costBudget: 99, timeout: 30 });
  });

  it('clears an inherited pipeline timeout with an explicit timeout: null in stepConfigs', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step(async (ctx) => {
          await sleep(80, ctx.signal);
          return 'done';
        }),
      },
      config: new PipelineConfig({ timeout: 0.02 }),
      stepConfigs: { a: new StepConfig({ timeout: null }) },
    });
    const result = await pipeline.execute({});
    expect(result.output).toBe('done');
  });

  it('applies the inherited pipeline timeout when the step does not clear it', async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step(async (ctx) => sleep(2_000, ctx.signal)) },
      config: new PipelineConfig({ timeout: 0.02 }),
    });
    const error = await rejectionOf(pipeline.execute({}));
    expect((error as StepExecutionError).originalError).toBeInstanceOf(StepTimeoutError);
  });

  it('accepts plain option objects for config and stepConfigs', async () => {
    const calls = { count: 0 };
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: failingStep(calls) },
      config: { retries: 2, retryDelay: 0.001 } as unknown as PipelineConfig,
      stepConfigs: { a: { retries: 1 } as unknown as StepConfig },
    });
    await expect(pipeline.execute({})).rejects.toBeInstanceOf(StepExecutionError);
    expect(calls.count).toBe(2);
  });

  it('lets per-call ctx.run retries beat every config layer', async () => {
    const agent = createMockAgent([transientError('model down')]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step({ retries: 5, retryDelay: 0.001 }, (ctx) => ctx.run(agent, 'hi', { retries: 1 })) },
      config: new PipelineConfig({ retries: 4, retryDelay: 0.001 }),
      stepConfigs: { a: new StepConfig({ retries: 3 }) },
    });
    await expect(pipeline.execute({})).rejects.toBeInstanceOf(StepExecutionError);
    expect(agent.calls).toHaveLength(2);
  });

  it('lets per-call ctx.run timeout beat the step timeout', async () => {
    const agent = createMockAgent([{ output: 'slow', delayMs: 10_000 }]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step({ timeout: 10 }, (ctx) => ctx.run(agent, 'hi', { timeout: 0.02 })) },
    });
    const startedAt = performance.now();
    const error = (await rejectionOf(pipeline.execute({}))) as StepExecutionError;
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    expect(error.originalError).toBeInstanceOf(StepTimeoutError);
    expect((error.originalError as StepTimeoutError).timeoutSeconds).toBe(0.02);
  });

  it('hands each step its resolved config as ctx.config', async () => {
    const seen: Record<string, StepConfig> = {};
    const record = (ctx: StepContext) => {
      seen[ctx.stepId] = ctx.config;
      return ctx.stepId;
    };
    const pipeline = new Pipeline({
      name: 'p',
      steps: { a: step({ timeout: 4 }, record), b: step(record) },
      dependencies: { b: ['a'] },
      config: new PipelineConfig({ retries: 1, retryDelay: 0.25, costBudget: 10 }),
      stepConfigs: { b: new StepConfig({ costBudget: null }) },
    });
    await pipeline.execute({});
    expect(seen.a).toMatchObject({ timeout: 4, retries: 1, retryDelay: 0.25, costBudget: 10 });
    expect(seen.b).toMatchObject({ timeout: null, retries: 1, retryDelay: 0.25, costBudget: null });
  });
});
