/**
 * runCostBudget across workers (issue 10): the run's spent total lives in the store
 * (`addRunCost`), so a step on one worker sees what steps on other workers spent, and its
 * `ctx.run` is refused once the run's budget is spent.
 */
import { StepExecutionError } from 'fastroai';
import { useDistributedFixture } from './support/use-distributed-fixture';
import { DISTRIBUTED_INPUT, distributedPipeline, executionsOf } from './support/distributed-pipeline';

jest.setTimeout(120_000);

const fixture = useDistributedFixture();

it("refuses e's model call on whichever worker once a (1,000) and b (20,000) spent the run's 21,000-microcent budget elsewhere", async () => {
  // a and b run on different workers (b is slow, so c and d land on the other one).
  const options = { runCostBudget: 21_000, slow: { b: 500 } };
  await fixture.startWorker('w1', options);
  await fixture.startWorker('w2', options);
  const store = fixture.store();
  const error = await distributedPipeline({ ledger: fixture.ledger, label: 'caller', runCostBudget: 21_000 })
    .execute(DISTRIBUTED_INPUT, undefined, { store, runner: fixture.runner(), runId: 'budget' })
    .then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
  expect(StepExecutionError.isInstance(error)).toBe(true);
  expect((error as StepExecutionError).stepId).toBe('e');
  const original = (error as StepExecutionError).originalError;
  expect(original.name).toBe('CostBudgetExceededError');
  expect(original.message).toMatch(/21,?000|\$0\.00021/);
  expect(executionsOf(fixture.ledger, 'e')).toBe(1);
  const stored = await store.getRun('budget');
  expect(stored!.run.costMicrocents).toBe(21_000);
  expect(stored!.steps.find((record) => record.stepId === 'e')).toMatchObject({ status: 'failed', error: { name: 'CostBudgetExceededError' } });
});
