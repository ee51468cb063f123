/**
 * What a worker refuses (issue 10): a job of a pipeline whose graph differs from the caller's
 * (the caller's run fails naming both), and, once its event loop was blocked past its job lock,
 * its further `ctx.run` calls and its late record.
 */
import { Pipeline, PipelineValidationError, StepExecutionError, step } from 'fastroai';
import { createStepWorker } from 'fastroai/distributed';
import type { StepReconciler } from '../../src/distributed/step-reconciler';
import { useDistributedFixture } from './support/use-distributed-fixture';
import { DISTRIBUTED_INPUT, DISTRIBUTED_STEPS, distributedPipeline, executionsOf } from './support/distributed-pipeline';

jest.setTimeout(180_000);

const fixture = useDistributedFixture();

describe('a worker with another version of the pipeline', () => {
  it('fails the job with an error naming the worker, the pipeline and the change, and the caller\'s run fails with it (no hang)', async () => {
    await fixture.startWorker('w-old', { variant: 'rewired' });
    const store = fixture.store();
    const run = distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
      store,
      runner: fixture.runner(),
      runId: 'mismatch',
    });
    const error = await run.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).stepId).toBe('a');
    expect(PipelineValidationError.isInstance((error as StepExecutionError).originalError)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain("Worker 'w-old'");
    expect(message).toContain("another version of pipeline 'distributed-test'");
    expect(message).toContain("re-wired 'e' (depended on [d], now on [c])");
    expect(executionsOf(fixture.ledger, 'a')).toBe(0);
    const stored = await store.getRun('mismatch');
    expect(stored!.run.status).toBe('failed');
    expect(stored!.run.error?.message).toContain("Worker 'w-old'");
  });
});

describe('a worker without the pipeline', () => {
  it("fails the job with an error naming the pipeline it lacks and the ones it has, and the caller's run fails with it, woken by the worker", async () => {
    const store = fixture.store();
    const other = new Pipeline({ name: 'other-pipeline', steps: { x: step(() => 1) } });
    const worker = createStepWorker({ pipelines: [other], store, connection: { host: '127.0.0.1', port: 6379 }, prefix: fixture.prefix, name: 'w-other' });
    try {
      await worker.waitUntilReady();
      // A regular reconciliation round (which reads failed jobs' states) only after a minute: the worker's wake-up tells the caller.
      const runner = fixture.runner(60_000);
      const error = await distributedPipeline({ ledger: fixture.ledger, label: 'caller' })
        .execute(DISTRIBUTED_INPUT, undefined, { store, runner, runId: 'unknown-pipeline' })
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
      expect(StepExecutionError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain("Worker 'w-other' has no pipeline 'distributed-test' (it has 'other-pipeline')");
      expect(PipelineValidationError.isInstance((error as StepExecutionError).originalError)).toBe(true);
      expect(executionsOf(fixture.ledger, 'a')).toBe(0);
      expect((runner as unknown as { reconciler: StepReconciler }).reconciler.counts.rounds).toBe(0);
    } finally {
      await worker.close();
    }
  });
});

describe('a worker whose event loop blocked past its job lock', () => {
  it('has its further ctx.run calls refused and its late record refused; the step is recorded once, by the worker that took it over', async () => {
    const timing = { lockDuration: 2_000, stalledInterval: 500, blockFirst: 'd', blockMs: 4_500, lateMs: 2_500 };
    await fixture.startWorker('w1', timing);
    await fixture.startWorker('w2', timing);
    const store = fixture.store();
    const result = await distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
      store,
      runner: fixture.runner(),
      runId: 'blocked',
    });

    const dLines = fixture.ledgerLines().filter((line) => line.split(' ')[1].startsWith('d'));
    const blocked = dLines[0].split(' ')[0];
    const other = blocked === 'w1' ? 'w2' : 'w1';
    // The blocked worker ran d first, its ctx.run after the block was refused (WorkerLostError),
    // and it returned at once, while the other worker still waited 2.5 s before returning:
    // without the lock fence its late output would have been recorded first.
    expect(dLines).toEqual(expect.arrayContaining([`${blocked} d`, `${blocked} d:ctx.run-refused:WorkerLostError`, `${other} d`]));
    expect(dLines).toHaveLength(3);
    const records = (await store.getRun('blocked'))!.steps;
    expect(records.map((record) => `${record.stepId}@${record.generation}`).sort()).toEqual(DISTRIBUTED_STEPS.map((id) => `${id}@1`));
    expect(records.find((record) => record.stepId === 'd')!.workerId).toBe(other);
    expect(result.stepOutputs.d).toMatchObject({ joined: expect.stringMatching(/^lisbon\/b:\d+\|6,2023$/) });
    expect(result.output).toMatchObject({ final: expect.not.stringContaining('late') });
    for (const id of ['e', 'f']) expect(executionsOf(fixture.ledger, id)).toBe(1);
  });
});
