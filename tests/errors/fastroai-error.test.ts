import {
  CostBudgetExceededError,
  DispatchSkippedError,
  ErrorCategory,
  FastroAIError,
  PipelineAbortedError,
  PipelineValidationError,
  StepExecutionError,
  StepTimeoutError,
} from 'fastroai';

const cases: Array<[string, () => FastroAIError, { isInstance(error: unknown): boolean }, string]> = [
  ['FastroAIError', () => new FastroAIError('base'), FastroAIError, 'fastroai:error'],
  ['PipelineValidationError', () => new PipelineValidationError('bad'), PipelineValidationError, 'fastroai:pipeline-validation'],
  ['StepExecutionError', () => new StepExecutionError('a', new Error('x')), StepExecutionError, 'fastroai:step-execution'],
  ['CostBudgetExceededError', () => new CostBudgetExceededError(10, 12, 'a'), CostBudgetExceededError, 'fastroai:cost-budget-exceeded'],
  ['DispatchSkippedError', () => new DispatchSkippedError(), DispatchSkippedError, 'fastroai:dispatch-skipped'],
  ['StepTimeoutError', () => new StepTimeoutError('a', 1, 1), StepTimeoutError, 'fastroai:step-timeout'],
  ['PipelineAbortedError', () => new PipelineAbortedError('p'), PipelineAbortedError, 'fastroai:pipeline-aborted'],
];

describe.each(cases)('%s', (name, make, type, code) => {
  it('is an Error and a FastroAIError', () => {
    const error = make();
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(FastroAIError);
    expect(FastroAIError.isInstance(error)).toBe(true);
  });

  it('has a constant name and a stable code', () => {
    const error = make();
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
  });

  it('is recognised by its own isInstance, and a plain Error is not', () => {
    expect(type.isInstance(make())).toBe(true);
    expect(type.isInstance(new Error('plain'))).toBe(false);
    expect(type.isInstance(undefined)).toBe(false);
    expect(type.isInstance('StepTimeoutError')).toBe(false);
  });

  it('has a stack trace', () => {
    expect(typeof make().stack).toBe('string');
  });

  it('serializes to JSON with its name, code and message', () => {
    const error = make();
    const json = JSON.parse(JSON.stringify(error));
    expect(json).toMatchObject({ name, code, message: error.message });
    if (typeof (error as { stepId?: unknown }).stepId === 'string') expect(json.stepId).toBe('a');
  });
});

describe('isInstance', () => {
  it('tells the error classes apart', () => {
    const timeout = new StepTimeoutError('a', 1, 1);
    expect(StepExecutionError.isInstance(timeout)).toBe(false);
    expect(CostBudgetExceededError.isInstance(timeout)).toBe(false);
    expect(PipelineValidationError.isInstance(new FastroAIError('base'))).toBe(false);
  });

  it('recognises an error from another copy of the package by its global marker', () => {
    const foreign = Object.assign(new Error('from a second copy'), { [Symbol.for('fastroai.error.StepTimeoutError')]: true });
    expect(StepTimeoutError.isInstance(foreign)).toBe(true);
    expect(foreign instanceof StepTimeoutError).toBe(false);
  });

  it('recognises subclasses', () => {
    class CircuitOpen extends DispatchSkippedError {}
    expect(DispatchSkippedError.isInstance(new CircuitOpen('open'))).toBe(true);
  });
});

describe('FastroAIError', () => {
  it('keeps its message and cause', () => {
    const cause = new Error('root');
    const error = new FastroAIError('wrapped', { cause });
    expect(error.message).toBe('wrapped');
    expect(error.cause).toBe(cause);
  });
});

describe('ErrorCategory', () => {
  it('has the four categories of the contract', () => {
    expect(ErrorCategory.TRANSIENT).toBe('transient');
    expect(ErrorCategory.PERMANENT).toBe('permanent');
    expect(ErrorCategory.RESOURCE_EXHAUSTION).toBe('resource_exhaustion');
    expect(ErrorCategory.UNKNOWN).toBe('unknown');
  });
});

describe('FastroAIError.toJSON', () => {
  it("writes the step id and the cause's name and message", () => {
    const error = new StepExecutionError('fetch', new TypeError('HTTP 500'));
    expect(JSON.parse(JSON.stringify({ fetch: error }))).toEqual({
      fetch: {
        name: 'StepExecutionError',
        code: 'fastroai:step-execution',
        message: "Step 'fetch' failed: HTTP 500",
        stepId: 'fetch',
        cause: { name: 'TypeError', message: 'HTTP 500' },
      },
    });
  });

  it("writes a fastroai cause's code", () => {
    const error = new StepExecutionError('call', new StepTimeoutError('call', 5, 2));
    expect(error.toJSON().cause).toEqual({
      name: 'StepTimeoutError',
      message: "Step 'call' timed out after 5s (attempt 2)",
      code: 'fastroai:step-timeout',
    });
  });

  it('leaves out a step id and a cause the error does not have', () => {
    expect(new PipelineValidationError('bad').toJSON()).toEqual({
      name: 'PipelineValidationError',
      code: 'fastroai:pipeline-validation',
      message: 'bad',
    });
    expect(new CostBudgetExceededError(1, 2).toJSON()).not.toHaveProperty('stepId');
  });

  it('writes a cause that is not an Error', () => {
    expect(new FastroAIError('x', { cause: 'quota' }).toJSON().cause).toEqual({ name: 'string', message: 'quota' });
    expect(new FastroAIError('x', { cause: 404 }).toJSON().cause).toEqual({ name: 'number', message: '404' });
    expect(new FastroAIError('x', { cause: { status: 500 } }).toJSON().cause).toEqual({
      name: 'Object',
      message: '(its message could not be read)',
    });
  });

  it('never throws on a cause whose getters throw', () => {
    const hostile = {
      get name(): string {
        throw new Error('name getter');
      },
      get message(): string {
        throw new Error('message getter');
      },
    };
    const json = new StepExecutionError('a', Object.assign(new Error('ok'), { cause: 1 })).toJSON();
    expect(json.cause).toEqual({ name: 'Error', message: 'ok' });
    const error = new FastroAIError('x', { cause: hostile });
    expect(() => JSON.stringify(error)).not.toThrow();
    expect(error.toJSON().cause).toEqual({ name: 'Object', message: '(its message could not be read)' });
  });

  it('never throws on a revoked Proxy as its cause', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const error = new FastroAIError('x', { cause: proxy });
    expect(() => JSON.stringify(error)).not.toThrow();
    expect(error.toJSON()).toEqual({
      name: 'FastroAIError',
      code: 'fastroai:error',
      message: 'x',
      cause: { name: 'unknown', message: '(its message could not be read)' },
    });
  });
});
