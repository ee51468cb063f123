import { CostBudgetExceededError, DispatchSkippedError, PipelineAbortedError, StepTimeoutError } from 'fastroai';

describe('CostBudgetExceededError', () => {
  it('carries the budget, the actual cost and the step', () => {
    const error = new CostBudgetExceededError(100_000, 120_000, 'classify');
    expect(error).toMatchObject({ budgetMicrocents: 100_000, actualMicrocents: 120_000, stepId: 'classify' });
    expect(error.message).toContain('classify');
    expect(error.message).toContain('120000');
    expect(error.message).toContain('100000');
  });

  it('leaves stepId undefined when not given', () => {
    expect(new CostBudgetExceededError(1, 2).stepId).toBeUndefined();
  });
});

describe('StepTimeoutError', () => {
  it('carries the step, the timeout in seconds and the 1-based attempt', () => {
    const error = new StepTimeoutError('fetch', 2.5, 3);
    expect(error).toMatchObject({ stepId: 'fetch', timeoutSeconds: 2.5, attempt: 3 });
    expect(error.message).toBe("Step 'fetch' timed out after 2.5s (attempt 3)");
  });
});

describe('DispatchSkippedError', () => {
  it('has a default message and takes a custom one', () => {
    expect(new DispatchSkippedError().message).toBe('Dispatch skipped');
    expect(new DispatchSkippedError('circuit open').message).toBe('circuit open');
  });

  it('lets a subclass set its own name', () => {
    class CircuitOpenError extends DispatchSkippedError {
      override readonly name = 'CircuitOpenError';
    }
    const error = new CircuitOpenError('open');
    expect(error.name).toBe('CircuitOpenError');
    expect(error.code).toBe('fastroai:dispatch-skipped');
  });
});

describe('PipelineAbortedError', () => {
  it('names the pipeline and keeps the abort reason as cause', () => {
    const error = new PipelineAbortedError('doc', 'user left');
    expect(error.message).toBe("Pipeline 'doc' was aborted");
    expect(error.cause).toBe('user left');
  });
});
