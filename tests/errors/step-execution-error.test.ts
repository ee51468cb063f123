import { CostBudgetExceededError, StepExecutionError, StepTimeoutError, StepUsage, WorkerLostError } from 'fastroai';

describe('StepExecutionError', () => {
  it('carries the usage the failed step was billed, an empty StepUsage when none was given', () => {
    const usage = new StepUsage({ requestCount: 3, costMicrocents: 1_050 });
    expect(new StepExecutionError('a', new Error('x'), usage).usage).toBe(usage);
    const none = new StepExecutionError('a', new Error('x')).usage;
    expect(none).toBeInstanceOf(StepUsage);
    expect(none.requestCount).toBe(0);
  });

  it("has stepId, originalError and the message \"Step 'x' failed: <original message>\"", () => {
    const original = new TypeError('cannot read property');
    const error = new StepExecutionError('classify', original);
    expect(error.stepId).toBe('classify');
    expect(error.originalError).toBe(original);
    expect(error.message).toBe("Step 'classify' failed: cannot read property");
    expect(error.cause).toBe(original);
  });

  it('wraps a thrown string into an Error carrying the string', () => {
    const error = new StepExecutionError('a', 'quota exceeded');
    expect(error.originalError).toBeInstanceOf(Error);
    expect(error.originalError.message).toBe('quota exceeded');
    expect(error.message).toBe("Step 'a' failed: quota exceeded");
    expect(error.cause).toBe('quota exceeded');
  });

  it('describes a thrown undefined or null', () => {
    expect(new StepExecutionError('a', undefined).message).toBe("Step 'a' failed: threw undefined (not an Error)");
    expect(new StepExecutionError('a', null).message).toBe("Step 'a' failed: threw null (not an Error)");
  });

  it('describes a thrown empty string', () => {
    expect(new StepExecutionError('a', '').message).toBe("Step 'a' failed: threw an empty string");
  });

  it('uses the message of a thrown non-Error object that has one', () => {
    expect(new StepExecutionError('a', { message: 'like an error', code: 42 }).message).toBe("Step 'a' failed: like an error");
  });

  it('describes other thrown objects and values', () => {
    expect(new StepExecutionError('a', { code: 42 }).message).toBe('Step \'a\' failed: threw a non-Error value: {"code":42}');
    expect(new StepExecutionError('a', 7).message).toBe("Step 'a' failed: threw a non-Error value: 7");
  });

  it('describes a thrown object that cannot be serialized', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(new StepExecutionError('a', circular).message).toBe("Step 'a' failed: threw a non-Error value: [object Object]");
  });
});

// API.md §8: message `Step 'x' failed: <original message>`, whatever the original names.
describe('StepExecutionError of an error about the same step', () => {
  it('keeps the whole message of a step timeout', () => {
    expect(new StepExecutionError('call', new StepTimeoutError('call', 5, 2)).message).toBe("Step 'call' failed: Step 'call' timed out after 5s (attempt 2)");
  });

  it('keeps the whole message of an agent-call timeout', () => {
    const timeout = new StepTimeoutError('call', 0.5, 1, 'Agent call in step');
    expect(new StepExecutionError('call', timeout).message).toBe("Step 'call' failed: Agent call in step 'call' timed out after 0.5s (attempt 1)");
  });

  it('keeps the whole message of a budget refusal or a lost worker', () => {
    expect(new StepExecutionError('a', new CostBudgetExceededError(100, 150, 'a')).message).toBe(
      "Step 'a' failed: Cost budget exceeded in step 'a': step cost 150 microcents >= budget 100 microcents",
    );
    expect(new StepExecutionError('a', new WorkerLostError('a', 'stalled 3 times')).message).toBe(
      "Step 'a' failed: Step 'a' lost its worker: stalled 3 times",
    );
  });

  it('keeps the full message of an error about another step (a nested pipeline)', () => {
    expect(new StepExecutionError('outer', new StepTimeoutError('inner', 5, 1)).message).toBe(
      "Step 'outer' failed: Step 'inner' timed out after 5s (attempt 1)",
    );
  });
});
