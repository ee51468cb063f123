import { StepExecutionError, StepUsage } from 'fastroai';

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
