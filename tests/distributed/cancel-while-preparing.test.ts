/**
 * The caller cancels the run while a worker has just taken a step's job and is still preparing
 * it (reading the run, building deps): the step does not start (its body and side effects do
 * not run), as a job cancelled a moment earlier, or a step of an in-process run cancelled
 * before it started, would not.
 */
import { randomUUID } from 'node:crypto';
import { MemoryRunStore, Pipeline, PipelineAbortedError, step } from 'fastroai';
import { QueueRunner, createStepWorker, stepJobId } from 'fastroai/distributed';
import { Queue } from 'bullmq';
import { deleteKeys } from './support/distributed-fixture';
import { waitUntil } from './support/processes';
import { sleep } from '../support/async-helpers';

jest.setTimeout(60_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };

it('does not start a step whose run was cancelled while its worker was preparing it', async () => {
  const prefix = `fastroai-test-${randomUUID()}`;
  const store = new MemoryRunStore();
  const sideEffects: string[] = [];
  const pipelineFor = () => new Pipeline({ name: 'cancel-prep', steps: { a: step(() => void sideEffects.push('a: charged the card')) } });
  let building = false;
  const worker = createStepWorker({
    pipelines: [pipelineFor()],
    store,
    connection: CONNECTION,
    prefix,
    name: 'w1',
    deps: async () => {
      building = true;
      await sleep(1_000); // e.g. opening a connection pool
      return {};
    },
  });
  worker.on('error', () => undefined);
  const runner = new QueueRunner({ connection: CONNECTION, prefix });
  const queue = new Queue('fastroai-steps', { connection: CONNECTION, prefix });
  try {
    await worker.waitUntilReady();
    const controller = new AbortController();
    const run = pipelineFor().execute({}, undefined, { store, runner, runId: 'cancel-prep', signal: controller.signal });
    await waitUntil('the worker to take a', async () => building && (await queue.getJobState(stepJobId('cancel-prep', 'a', 1))) === 'active');
    controller.abort(new Error('user pressed stop'));
    expect(PipelineAbortedError.isInstance(await run.catch((error: unknown) => error))).toBe(true);
    await waitUntil("a's job to end", async () => (await queue.getJobState(stepJobId('cancel-prep', 'a', 1))) === 'completed');
    expect(sideEffects).toEqual([]);
  } finally {
    await runner.close();
    await worker.close();
    await queue.close();
    await deleteKeys(CONNECTION.port, `${prefix}:*`);
  }
});
