import { PipelineConfig, PipelineValidationError, StepConfig } from 'fastroai';
import { thrownBy } from '../support/async-helpers';

describe('StepConfig', () => {
  it('defaults to no timeout, no retries, a 1 s retry delay and no budget', () => {
    const config = new StepConfig();
    expect(config.timeout).toBeNull();
    expect(config.retries).toBe(0);
    expect(config.retryDelay).toBe(1);
    expect(config.costBudget).toBeNull();
  });

  it('keeps the fields it is given, fractions of seconds included', () => {
    const config = new StepConfig({ timeout: 0.25, retries: 3, retryDelay: 0.001, costBudget: 100_000 });
    expect(config).toMatchObject({ timeout: 0.25, retries: 3, retryDelay: 0.001, costBudget: 100_000 });
  });

  it('accepts timeout 0 and null as "no bound"', () => {
    expect(new StepConfig({ timeout: 0 }).timeout).toBe(0);
    expect(new StepConfig({ timeout: null }).timeout).toBeNull();
  });

  it.each([
    ['timeout', -1],
    ['timeout', Number.NaN],
    ['timeout', '5'],
    ['retryDelay', -0.5],
    ['retryDelay', Number.NaN],
    ['costBudget', -1],
    ['costBudget', Number.NaN],
  ])('rejects %s = %p with a PipelineValidationError naming the field', (field, value) => {
    const error = thrownBy(() => new StepConfig({ [field]: value } as never));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toContain(`StepConfig.${field}`);
    expect((error as Error).message).toContain(String(value));
  });

  it.each([-1, 1.5, Number.NaN, Infinity, '2'])('rejects retries = %p (not an integer >= 0)', (value) => {
    const error = thrownBy(() => new StepConfig({ retries: value as number }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toMatch(/^StepConfig\.retries must be an integer >= 0, got /);
  });

  it('rejects options that are not an object', () => {
    const error = thrownBy(() => new StepConfig(42 as never));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe('StepConfig options must be an object, got 42');
  });

  it.each([
    ['retires', 'retries'],
    ['timout', 'timeout'],
    ['retryDelays', 'retryDelay'],
    ['costbudget', 'costBudget'],
  ])('refuses the misspelt option %p, naming %p', (key, nearest) => {
    const error = thrownBy(() => new StepConfig({ [key]: 1 } as never));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe(
      `StepConfig options: unknown option '${key}' (known: timeout, retries, retryDelay, costBudget). Did you mean '${nearest}'?`,
    );
  });

  it('refuses a pipeline-only option', () => {
    expect(() => new StepConfig({ maxConcurrency: 2 } as never)).toThrow(/unknown option 'maxConcurrency'/);
  });

  it.each([
    ['timeout', 1e7],
    ['timeout', 2_147_484],
    ['timeout', Infinity],
    ['retryDelay', 1e7],
    ['retryDelay', Infinity],
  ])('refuses %s = %p, above what a Node timer can wait (2^31-1 ms)', (field, value) => {
    const error = thrownBy(() => new StepConfig({ [field]: value }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toMatch(new RegExp(`^StepConfig\\.${field} must be at most 2147483\\.647 seconds \\(about 24\\.8 days`));
    expect((error as Error).message).toContain(`got ${value}`);
  });

  it('accepts durations up to the timer limit, and null or 0 as no bound', () => {
    expect(new StepConfig({ timeout: 2_147_483.647, retryDelay: 2_147_483.647 })).toMatchObject({
      timeout: 2_147_483.647,
      retryDelay: 2_147_483.647,
    });
    expect(new StepConfig({ timeout: null }).timeout).toBeNull();
    expect(new StepConfig({ timeout: 0 }).timeout).toBe(0);
  });

  it('says how to ask for no bound when refusing an Infinity timeout', () => {
    expect(() => new StepConfig({ timeout: Infinity })).toThrow(/or null for no bound, got Infinity$/);
  });
});

describe('PipelineConfig', () => {
  it('extends StepConfig with trace, onError, maxConcurrency and runCostBudget defaults', () => {
    const config = new PipelineConfig();
    expect(config).toBeInstanceOf(StepConfig);
    expect(config.trace).toBe(true);
    expect(config.onError).toBe('fail');
    expect(config.maxConcurrency).toBe(Infinity);
    expect(config.runCostBudget).toBeNull();
    expect(config.retries).toBe(0);
    expect(config.retryDelay).toBe(1);
  });

  it('keeps every field it is given', () => {
    const config = new PipelineConfig({
      timeout: 2,
      retries: 1,
      retryDelay: 0.5,
      costBudget: 10,
      trace: false,
      onError: 'continue',
      maxConcurrency: 3,
      runCostBudget: 500,
    });
    expect(config).toMatchObject({
      timeout: 2,
      retries: 1,
      retryDelay: 0.5,
      costBudget: 10,
      trace: false,
      onError: 'continue',
      maxConcurrency: 3,
      runCostBudget: 500,
    });
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxConcurrency = %p', (value) => {
    const error = thrownBy(() => new PipelineConfig({ maxConcurrency: value }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toContain('PipelineConfig.maxConcurrency must be an integer from 1 and up, or Infinity');
  });

  it('rejects an onError that is neither fail nor continue', () => {
    const error = thrownBy(() => new PipelineConfig({ onError: 'ignore' as never }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe("PipelineConfig.onError must be 'fail' or 'continue', got 'ignore'");
  });

  it('rejects a trace flag that is not a boolean', () => {
    expect(() => new PipelineConfig({ trace: 'yes' as never })).toThrow(PipelineValidationError);
  });

  it('rejects a negative or NaN runCostBudget', () => {
    expect(() => new PipelineConfig({ runCostBudget: -5 })).toThrow(/PipelineConfig\.runCostBudget/);
    expect(() => new PipelineConfig({ runCostBudget: Number.NaN })).toThrow(PipelineValidationError);
  });

  it('validates the inherited step fields under its own name', () => {
    expect(() => new PipelineConfig({ retries: -1 })).toThrow(/^PipelineConfig\.retries must be an integer >= 0, got -1$/);
    expect(() => new PipelineConfig({ timeout: Number.NaN })).toThrow(/^PipelineConfig\.timeout/);
  });

  it('refuses a misspelt option, naming the nearest one', () => {
    const error = thrownBy(() => new PipelineConfig({ maxConcurency: 2 } as never));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe(
      "PipelineConfig options: unknown option 'maxConcurency' (known: timeout, retries, retryDelay, costBudget, trace, onError, maxConcurrency, runCostBudget, failFast). Did you mean 'maxConcurrency'?",
    );
    expect(() => new PipelineConfig({ retires: 2 } as never)).toThrow(/unknown option 'retires' .*Did you mean 'retries'\?$/);
  });

  it("accepts API.md's failFast key", () => {
    expect(() => new PipelineConfig({ failFast: true } as never)).not.toThrow();
  });

  it('refuses durations above what a Node timer can wait', () => {
    expect(() => new PipelineConfig({ timeout: 1e7 })).toThrow(/^PipelineConfig\.timeout must be at most 2147483\.647 seconds/);
    expect(() => new PipelineConfig({ retryDelay: 1e7 })).toThrow(/^PipelineConfig\.retryDelay must be at most/);
  });
});
