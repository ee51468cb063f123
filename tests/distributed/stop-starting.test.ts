/**
 * A run that stops starting steps (a failure drains it, a step stopped it with INCOMPLETE) lets
 * its QueueRunner take back the jobs no worker took yet (StepTask.stopStarting): they end
 * `withdrawn`, never run nor paid for, as a run in one process starts nothing new. Real Redis
 * and BullMQ; no worker takes the jobs here, so they wait in the queue.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { MemoryRunStore, type StepOutcome, type StepTask } from 'fastroai';
import { QueueRunner, stepJobId } from 'fastroai/distributed';
import { makeRunRecord } from '../store/run-store-contract';
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
  return {
    queue,
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
  const { queue, start, dispose } = await world();
  try {
    const step = start('c');
    step.stop();
    expect((await within('the step to end', step.ended)).status).toBe('withdrawn');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await queue.getJobState(step.jobId)).toBe('unknown');
  } finally {
    await dispose();
  }
});
