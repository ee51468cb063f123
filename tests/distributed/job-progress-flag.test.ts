/**
 * A run without an event listener asks its workers for no progress messages (issue 10): its step
 * jobs carry `progress: false`; a run with `onEvent` (or `run()`) gets them (no flag). Read from
 * the jobs QueueRunner put in a queue on the local Redis (no worker takes them; the runs are
 * cancelled once the job is there).
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { MemoryRunStore, Pipeline, step } from 'fastroai';
import { QueueRunner, stepJobId } from 'fastroai/distributed';
import type { StepJobData } from '../../src/distributed/step-job-data';
import { deleteKeys } from './support/distributed-fixture';

const CONNECTION = { host: '127.0.0.1', port: 6379 };

let prefix: string;
let queue: Queue<StepJobData>;
let runner: QueueRunner;

beforeEach(() => {
  prefix = `fastroai-progress-flag-${randomUUID()}`;
  queue = new Queue<StepJobData>('fastroai-steps', { connection: CONNECTION, prefix });
  runner = new QueueRunner({ connection: CONNECTION, prefix });
});

afterEach(async () => {
  await runner.close();
  await queue.close();
  await deleteKeys(CONNECTION.port, `${prefix}:*`);
});

/** The data of the first step's job of a run started with `onEvent` or not, then cancelled. */
async function firstJobData(withListener: boolean): Promise<StepJobData> {
  const pipeline = new Pipeline({ name: 'progress-flag', steps: { only: step(() => 1) } });
  const controller = new AbortController();
  const runId = `run-${withListener ? 'watched' : 'quiet'}`;
  const options = { store: new MemoryRunStore(), runner, runId, signal: controller.signal, ...(withListener ? { onEvent: () => undefined } : {}) };
  const settled = pipeline.execute({}, undefined, options).catch(() => undefined);
  const jobId = stepJobId(runId, 'only', 1);
  let job = await queue.getJob(jobId);
  for (let tries = 0; job === undefined && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    job = await queue.getJob(jobId);
  }
  controller.abort();
  await settled;
  if (job === undefined) throw new Error(`job ${jobId} never reached the queue`);
  return job.data;
}

it('marks the jobs of a run without listeners progress: false', async () => {
  expect((await firstJobData(false)).progress).toBe(false);
});

it('leaves the flag off the jobs of a run with onEvent', async () => {
  expect(await firstJobData(true)).not.toHaveProperty('progress');
});
