/**
 * A run that stops starting steps (a failure drains it, a step stopped it with INCOMPLETE) lets
 * its QueueRunner take back the jobs no worker took yet (StepTask.stopStarting): they end
 * `withdrawn`, never run nor paid for, as a run in one process starts nothing new. Real Redis
 * and BullMQ; no worker takes the jobs here, so they wait in the queue.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { MemoryRunStore, type StepOutcome, type StepTask } from 'fastroai';
import { QueueRunner, stepJobId } from 'fastroai/distributed';
import { makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { deleteKeys } from './support/distributed-fixture';
import { waitUntil } from './support/processes';

jest.setTimeout(60_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };
const QUEUE_NAME = 'fastroai-steps';

/** `promise`, or a rejection naming what did not happen within 10 s (a step that is never taken back waits for ever). */
function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within 10 s`)), 10_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function world() {
  const prefix = `fastroai-withdraw-${randomUUID()}`;
  const store = new MemoryRunStore();
  await store.createRun(makeRunRecord('r', { epoch: 1 }));
  const runner = new QueueRunner({ connection: CONNECTION, prefix, reconcileIntervalMs: 60_000 });
  const queue = new Queue(QUEUE_NAME, { connection: CONNECTION, prefix });
  const added: string[] = [];
  const internals = runner as unknown as { jobs: { add(name: string, data: unknown, jobId: string): Promise<void> }; queue: Queue };
  const add = internals.jobs.add.bind(internals.jobs);
  internals.jobs.add = (name, data, jobId) => {
    added.push(jobId);
    return add(name, data, jobId);
  };
  return {
    store,
    queue,
    prefix,
    /** The job ids the runner handed to BullMQ. */
    added,
    /** The runner's own queue (to interleave with its calls). */
    runnerQueue: internals.queue,
    runner,
    /** Hands step `stepId` of run r to the runner, with a stopStarting signal of its own. */
    start(stepId: string) {
      const stopStarting = new AbortController();
      const durable = { store, pipeline: 'p', fingerprint: 'f', generation: 1, epoch: 1 };
      const ended = runner.runStep({ runId: 'r', stepId, durable, stopStarting: stopStarting.signal } as unknown as StepTask);
      return { ended, stop: () => stopStarting.abort(), jobId: stepJobId('r', stepId, 1) };
    },
    async dispose() {
      await runner.close();
      await queue.close();
      await deleteKeys(CONNECTION.port, `${prefix}:*`);
    },
  };
}

it('takes back a job that waits in the queue once its run stops starting steps: the step ends withdrawn and its job is gone', async () => {
  const { queue, start, dispose } = await world();
  try {
    const step = start('b');
    await waitUntil("b's job to wait in the queue", async () => (await queue.getJobState(step.jobId)) === 'waiting');
    step.stop();
    const outcome: StepOutcome = await within('the step to end', step.ended);
    expect(outcome).toMatchObject({ status: 'withdrawn', attempts: 0, usage: undefined });
    expect(outcome.recorded).toBeUndefined();
    expect(await queue.getJobState(step.jobId)).toBe('unknown');
  } finally {
    await dispose();
  }
});

it('takes back a step whose job was not added yet: it never reaches the queue', async () => {
  const { queue, added, start, dispose } = await world();
  try {
    const step = start('c');
    step.stop();
    expect((await within('the step to end', step.ended)).status).toBe('withdrawn');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await queue.getJobState(step.jobId)).toBe('unknown');
    expect(added).toEqual([]);
  } finally {
    await dispose();
  }
});

it('a job a worker took and finished between the look and the removal is not withdrawn: the step is settled from its record', async () => {
  const { store, queue, prefix, runnerQueue, start, dispose } = await world();
  const taker = new Worker(QUEUE_NAME, null, { connection: CONNECTION, prefix });
  try {
    const step = start('b');
    await waitUntil("b's job to wait in the queue", async () => (await queue.getJobState(step.jobId)) === 'waiting');
    // The interleaving: after the runner saw the job waiting, a worker takes it, records the step and completes the job.
    const remove = runnerQueue.remove.bind(runnerQueue);
    runnerQueue.remove = async (jobId: string, options?: { removeChildren?: boolean }) => {
      const job = (await taker.getNextJob('token'))!;
      await store.recordSteps('r', 1, [{ ...makeStepRecord('b'), output: JSON.stringify('b ran') }]);
      await job.moveToCompleted({ outcome: 'recorded' }, 'token', false);
      return remove(jobId, options);
    };
    step.stop();
    const outcome = await within('the step to end', step.ended);
    expect(outcome.status).toBe('completed');
    expect(outcome.output).toBe('b ran');
  } finally {
    await taker.close();
    await dispose();
  }
});

it('a reconciliation that finds the job of a step being taken back gone does not fail the step: it ends withdrawn', async () => {
  const { queue, runner, runnerQueue, start, dispose } = await world();
  try {
    const step = start('d');
    await waitUntil("d's job to wait in the queue", async () => (await queue.getJobState(step.jobId)) === 'waiting');
    // A reconciliation round looks at the job's state right after the removal, before the step's record was read.
    const internals = runner as unknown as { waiting: Map<string, unknown>; reconciler: { settleByJobState(waiting: unknown, state: string): Promise<void> } };
    const remove = runnerQueue.remove.bind(runnerQueue);
    runnerQueue.remove = async (jobId: string, options?: { removeChildren?: boolean }) => {
      const removed = await remove(jobId, options);
      const waiting = internals.waiting.get(jobId);
      queueMicrotask(() => void internals.reconciler.settleByJobState(waiting, 'unknown'));
      return removed;
    };
    step.stop();
    expect((await within('the step to end', step.ended)).status).toBe('withdrawn');
  } finally {
    await dispose();
  }
});
