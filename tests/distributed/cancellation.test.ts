/**
 * Cancelling a distributed run (issue 10): the caller's signal, or unsubscribing from run(),
 * aborts the remote step's `ctx.signal` on its worker, the run rejects with PipelineAbortedError
 * at once, and the cancelled step writes no record.
 */
import { Queue } from 'bullmq';
import { PipelineAbortedError } from 'fastroai';
import { stepJobId } from 'fastroai/distributed';
import { useDistributedFixture } from './support/use-distributed-fixture';
import { DISTRIBUTED_INPUT, distributedPipeline, executionsOf } from './support/distributed-pipeline';
import { waitUntil } from './support/processes';

jest.setTimeout(120_000);

const fixture = useDistributedFixture();

it("aborts the remote step's signal when the run's signal aborts; nothing is recorded for it, and a resume runs it again", async () => {
  const workers = { w1: await fixture.startWorker('w1', { slow: { d: 60_000 } }) };
  const store = fixture.store();
  const controller = new AbortController();
  const run = distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
    store,
    runner: fixture.runner(),
    runId: 'cancelled',
    signal: controller.signal,
  });
  await waitUntil('d to start on the worker', () => executionsOf(fixture.ledger, 'd') === 1);
  controller.abort(new Error('user pressed stop'));

  const error = await run.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(PipelineAbortedError.isInstance(error)).toBe(true);
  // The worker's step saw its signal abort (long before its 60 s sleep ended).
  await waitUntil('the worker to abort d', () => fixture.ledgerLines().includes('w1 d:aborted'), 30_000);
  const stored = await store.getRun('cancelled');
  expect(stored!.run.status).toBe('aborted');
  expect(stored!.steps.map((record) => record.stepId).sort()).toEqual(['a', 'b', 'c']);
  expect(executionsOf(fixture.ledger, 'e')).toBe(0);

  // Resumed later, on another worker: the cancelled step's job (finished, nothing recorded) runs again.
  await fixture.startWorker('w2');
  await workers.w1.kill();
  const resumed = await distributedPipeline({ ledger: fixture.ledger, label: 'resumer' }).resume('cancelled', { store, runner: fixture.runner() });
  expect(resumed.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
  expect(fixture.ledgerLines().filter((line) => line.split(' ')[1].startsWith('d'))).toEqual(['w1 d', 'w1 d:aborted', 'w2 d']);
  expect((await store.getRun('cancelled'))!.steps.find((record) => record.stepId === 'd')).toMatchObject({ generation: 1, workerId: 'w2' });
});

it("aborts the remote step's signal when the caller unsubscribes from run(); nothing is recorded for it", async () => {
  await fixture.startWorker('w1', { slow: { d: 60_000 } });
  const store = fixture.store();
  const runner = fixture.runner();
  const subscription = distributedPipeline({ ledger: fixture.ledger, label: 'caller' })
    .run(DISTRIBUTED_INPUT, undefined, { store, runner, runId: 'unsubscribed' })
    .subscribe({ error: () => undefined });
  await waitUntil('d to start on the worker', () => executionsOf(fixture.ledger, 'd') === 1);
  subscription.unsubscribe();

  await waitUntil('the worker to abort d', () => fixture.ledgerLines().includes('w1 d:aborted'), 30_000);
  const queue = new Queue(runner.queueName, { connection: { host: '127.0.0.1', port: fixture.redisPort }, prefix: fixture.prefix });
  try {
    const jobId = stepJobId('unsubscribed', 'd', 1);
    // The job ends 'cancelled' on the worker; the caller's removal of the job (sent right after the
    // cancel message) takes it away when it arrives after that (a slow caller), and fails while it runs.
    let state = '';
    await waitUntil("d's job to end on the worker", async () => ['completed', 'unknown'].includes((state = await queue.getJobState(jobId))), 30_000).catch(async (error: Error) => {
      const job = await queue.getJob(jobId);
      throw new Error(`${error.message}: its state is '${state}' (failedReason ${job?.failedReason}, returnvalue ${JSON.stringify(job?.returnvalue)})`);
    });
    if (state === 'completed') expect((await queue.getJob(jobId))?.returnvalue).toMatchObject({ outcome: 'cancelled', workerId: 'w1' });
  } finally {
    await queue.close();
  }
  await waitUntil('the run to be stored as aborted', async () => (await store.getRun('unsubscribed'))?.run.status === 'aborted', 30_000);
  expect((await store.getRun('unsubscribed'))!.steps.map((record) => record.stepId).sort()).toEqual(['a', 'b', 'c']);
});
