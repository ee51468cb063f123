import { CostBudgetExceededError, DispatchSkippedError, OutputNotStorableError, StepExecutionError, StepTimeoutError, WorkerLostError } from 'fastroai';
import { AgentTimeoutError } from '../../src/agent/agent-timeout-error';
import { storedErrorOf } from '../../src/durable/stored-error-of';
import { storedErrorToError } from '../../src/store/stored-error-to-error';

/** Through the store and back: the stored form as JSON (as every store keeps it), then an Error again. */
const throughStore = (error: Error) => storedErrorToError(JSON.parse(JSON.stringify(storedErrorOf(error))));

describe('a stored fastroai error comes back as its class, with its fields and messages', () => {
  it.each<[string, Error, Record<string, unknown>]>([
    ["a step's timeout", new StepTimeoutError('a', 0.1, 2), { stepId: 'a', timeoutSeconds: 0.1, attempt: 2 }],
    ["a ctx.run call's timeout", new StepTimeoutError('a', 5, 1, 'Agent call in step'), { stepId: 'a', timeoutSeconds: 5, attempt: 1 }],
    ['a cost budget', new CostBudgetExceededError(100, 210, 'a', 'run'), { budgetMicrocents: 100, actualMicrocents: 210, stepId: 'a' }],
    ['an output that cannot be stored', new OutputNotStorableError('a', '$.x[2]', 'is an instance of Entity'), { stepId: 'a', path: '$.x[2]' }],
    ['a skipped dispatch', new DispatchSkippedError('kill switch'), {}],
    ['a lost worker', new WorkerLostError('a'), { stepId: 'a' }],
    ["an agent's own timeout", new AgentTimeoutError('openai:gpt-4o', 30), { model: 'openai:gpt-4o', timeoutSeconds: 30 }],
  ])('%s', (_, original, fields) => {
    const revived = throughStore(original);
    expect(revived).toBeInstanceOf(original.constructor);
    expect((original.constructor as unknown as { isInstance(value: unknown): boolean }).isInstance(revived)).toBe(true);
    expect(revived).toMatchObject({ name: original.name, code: (original as { code?: string }).code, message: original.message, ...fields });
    // Inside the step's failure it reads as in the process that raised it.
    expect(new StepExecutionError('a', revived).message).toBe(new StepExecutionError('a', original).message);
  });

  it("a subclass comes back as the fastroai class it extends, with its own name", () => {
    class CircuitOpenError extends DispatchSkippedError {
      override readonly name = 'CircuitOpenError';
    }
    const revived = throughStore(new CircuitOpenError('circuit open'));
    expect(DispatchSkippedError.isInstance(revived)).toBe(true);
    expect(revived).toMatchObject({ name: 'CircuitOpenError', message: 'circuit open' });
  });

  it('any other error comes back as an Error with its name, code and message', () => {
    const original = Object.assign(new TypeError('bad'), { code: 'E_BAD', status: 400 });
    const revived = throughStore(original);
    expect(revived).toBeInstanceOf(Error);
    expect(revived).toMatchObject({ name: 'TypeError', code: 'E_BAD', message: 'bad' });
    expect(storedErrorOf(original).details).toBeUndefined();
  });

  it("a step's own StepExecutionError is stored as the error it wraps; another step's (a nested pipeline's) comes back as one", () => {
    const inner = Object.assign(new TypeError('inner broke'), { code: 'E_INNER' });
    const own = storedErrorOf(new StepExecutionError('outer', inner), 'outer');
    expect(own).toEqual({ name: 'TypeError', code: 'E_INNER', message: 'inner broke' });
    const nested = storedErrorToError(JSON.parse(JSON.stringify(storedErrorOf(new StepExecutionError('innerStep', inner), 'outer'))));
    expect(StepExecutionError.isInstance(nested)).toBe(true);
    expect(nested).toMatchObject({ stepId: 'innerStep', message: "Step 'innerStep' failed: inner broke" });
    expect((nested as StepExecutionError).originalError).toMatchObject({ name: 'TypeError', code: 'E_INNER', message: 'inner broke' });
  });

  it("a nested failure keeps its original fastroai error's class and fields", () => {
    const nested = storedErrorToError(JSON.parse(JSON.stringify(storedErrorOf(new StepExecutionError('innerStep', new StepTimeoutError('innerStep', 0.05, 2)), 'outer'))));
    const original = (nested as StepExecutionError).originalError;
    expect(original).toBeInstanceOf(StepTimeoutError);
    expect(original).toMatchObject({ stepId: 'innerStep', timeoutSeconds: 0.05, attempt: 2 });
  });

  it("a step's own wrapper of a nested failure (it caught and wrapped it) comes back as it was stored: the nested failure's message, under the step's id", () => {
    const wrapped = new StepExecutionError('outer', new StepExecutionError('innerStep', new Error('inner broke')));
    const revived = storedErrorToError(JSON.parse(JSON.stringify(storedErrorOf(wrapped, 'outer'))));
    expect(StepExecutionError.isInstance(revived)).toBe(false);
    expect(revived).toMatchObject({ name: 'StepExecutionError', code: 'fastroai:step-execution', message: "Step 'innerStep' failed: inner broke" });
    expect(new StepExecutionError('outer', revived).message).toBe(wrapped.message);
  });
});
