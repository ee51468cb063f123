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
