import { ConversationState, ConversationStatus, StepConfig, StepTimeoutError, step, type StepContext } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { LocalRunBudget } from '../../src/context/run-budget';
import { runStepTask, type StepTask } from '../../src/executor/run-step-task';
import { sleep } from '../support/async-helpers';
import { transientError } from '../support/transient-error';

/** A task with the plain data a worker would have read from a store. */
function task(overrides: Partial<StepTask>): StepTask {
  return {
    runId: 'r1',
    stepId: 'classify',
    step: step(() => 'ok'),
    config: new StepConfig(),
    inputs: {},
    dependencyOutputs: {},
    deps: undefined,
    ...overrides,
  };
}

describe('runStepTask: a step run from data alone', () => {
  it('builds the context from the data: input, dependency outputs, deps; completes with output and usage', async () => {
    const agent = createMockAgent([{ output: 'invoice', costMicrocents: 120 }]);
    const budget = new LocalRunBudget(null, 0);
    const outcome = await runStepTask(
      task({
        inputs: { document: 'doc-1' },
        dependencyOutputs: { extract: ['a', 'b'] },
        deps: { tenant: 't1' },
        runBudget: budget,
        step: step(async (ctx: StepContext<{ tenant: string }>) => {
          const words = ctx.getDependency<string[]>('extract');
          const answer = await ctx.run(agent, `${ctx.getInput('document')} ${words.join(' ')}`);
          return `${ctx.deps.tenant}:${answer.output}`;
        }),
      }),
    );
    expect(outcome).toMatchObject({ status: 'completed', output: 't1:invoice', attempts: 1 });
    expect(outcome.usage?.costMicrocents).toBe(120);
    expect(budget.spentMicrocents).toBe(120);
    expect(agent.calls[0].message).toBe('doc-1 a b');
    expect(outcome.endedAt).toBeGreaterThanOrEqual(outcome.startedAt);
  });

  it('refuses getDependency of a step that is not in the data', async () => {
    const outcome = await runStepTask(task({ step: step((ctx: StepContext) => ctx.getDependency('fetchUser')) }));
    expect(outcome.status).toBe('failed');
    expect(String((outcome.error as Error).message)).toMatch(/Step 'fetchUser' not a dependency of 'classify'/);
  });

  it('retries with the config from the data and reports each retry', async () => {
    let calls = 0;
    const seen: string[] = [];
    const outcome = await runStepTask(
      task({
        config: new StepConfig({ retries: 2, retryDelay: 0 }),
        step: step(() => {
          calls++;
          throw new Error(`boom ${calls}`);
        }),
        onAttempt: (event) => seen.push(`${event.type}:${event.attempt}`),
      }),
    );
    expect(outcome).toMatchObject({ status: 'failed', attempts: 3 });
    expect((outcome.error as Error).message).toBe('boom 3');
    expect(seen).toEqual(['step.retrying:1', 'step.started:2', 'step.retrying:2', 'step.started:3']);
  });

  it('reports retried model calls', async () => {
    const agent = createMockAgent([transientError('503'), { output: 'ok' }]);
    const seen: string[] = [];
    const outcome = await runStepTask(
      task({
        config: new StepConfig({ retries: 1, retryDelay: 0 }),
        step: step(async (ctx: StepContext) => (await ctx.run(agent, 'hi')).output),
        onAttempt: (event) => seen.push(`${event.type}:${event.attempt}`),
      }),
    );
    expect(outcome).toMatchObject({ status: 'completed', output: 'ok' });
    expect(seen).toEqual(['call.retrying:1']);
  });

  it('bounds an attempt by the timeout from the data', async () => {
    const outcome = await runStepTask(
      task({ config: new StepConfig({ timeout: 0.02 }), step: step(async (ctx: StepContext) => sleep(10_000, ctx.signal)) }),
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBeInstanceOf(StepTimeoutError);
  });

  it('reports an INCOMPLETE ConversationState as incomplete', async () => {
    const state = new ConversationState({ status: ConversationStatus.INCOMPLETE, context: { missing: ['city'] } });
    const outcome = await runStepTask(task({ step: step(() => state) }));
    expect(outcome).toMatchObject({ status: 'incomplete', output: state });
  });

  it("aborts the step's signal when the task's signal aborts, and fails without retrying", async () => {
    const controller = new AbortController();
    const running = runStepTask(
      task({
        signal: controller.signal,
        config: new StepConfig({ retries: 3, retryDelay: 0 }),
        step: step(async (ctx: StepContext) => {
          setTimeout(() => controller.abort('run cancelled'), 5);
          await sleep(10_000, ctx.signal);
        }),
      }),
    );
    const outcome = await running;
    expect(outcome).toMatchObject({ status: 'failed', attempts: 1, error: 'run cancelled' });
  });
});
