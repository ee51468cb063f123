/**
 * StepJobAdder (issue 10): the step jobs asked for in one tick go to the queue in one
 * `addBulk` per 1,000, keep their ids (an id in the queue already is adopted, not added again),
 * a job dropped before its bulk is not added, and a job BullMQ refuses fails alone.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { JOBS_PER_BULK, StepJobAdder } from '../../src/distributed/step-job-adder';
import type { StepJobData, StepJobResult } from '../../src/distributed/step-job-data';
import { deleteKeys } from './support/distributed-fixture';

const REDIS_PORT = 6379;

let prefix: string;
let queue: Queue<StepJobData, StepJobResult>;
/** The size of each `addBulk` call, in order. */
let bulks: number[];
let singles: number;
/** The most `addBulk` calls in flight at once. */
let mostBulksInFlight: number;

beforeEach(async () => {
  prefix = `fastroai-adder-${randomUUID()}`;
  queue = new Queue<StepJobData, StepJobResult>('steps', { connection: { host: '127.0.0.1', port: REDIS_PORT, maxRetriesPerRequest: null }, prefix });
  await queue.waitUntilReady();
  bulks = [];
  singles = 0;
  mostBulksInFlight = 0;
  let inFlight = 0;
  const addBulk = queue.addBulk.bind(queue);
  queue.addBulk = (jobs) => {
    bulks.push(jobs.length);
    mostBulksInFlight = Math.max(mostBulksInFlight, ++inFlight);
    return addBulk(jobs).finally(() => inFlight--);
  };
  const add = queue.add.bind(queue);
  queue.add = (...args) => {
    singles++;
    return add(...args);
  };
});

afterEach(async () => {
  await queue.close();
  await deleteKeys(REDIS_PORT, `${prefix}:*`);
});

function dataOf(stepId: string, runId = 'run1'): StepJobData {
  return { runId, stepId, generation: 1, pipeline: 'p', fingerprintDigest: 'f', epoch: 1 };
}

it('adds the jobs asked for in one tick with one addBulk per 1,000, each under its own id', async () => {
  const adder = new StepJobAdder(queue);
  const count = 2 * JOBS_PER_BULK + 500;
  await Promise.all(Array.from({ length: count }, (_, i) => adder.add(`s${i}`, dataOf(`s${i}`), `run1-s${i}-1`)));

  expect(bulks).toEqual([JOBS_PER_BULK, JOBS_PER_BULK, 500]);
  // One after the other: chunks sent at once would all sit in the heap together.
  expect(mostBulksInFlight).toBe(1);
  expect(singles).toBe(0);
  expect(await queue.getJobCountByTypes('waiting')).toBe(count);
  const job = await queue.getJob('run1-s1234-1');
  expect(job?.data).toEqual(dataOf('s1234'));
  expect(job?.opts).toMatchObject({ attempts: 1, removeOnComplete: { age: 3_600 }, removeOnFail: { age: 24 * 3_600 } });
});

it('adopts a job whose id is in the queue already (not added twice), in the middle of a bulk', async () => {
  await queue.add('b', { ...dataOf('b'), pipeline: 'added-by-a-caller-that-crashed' }, { jobId: 'run1-b-1' });
  singles = 0;
  const adder = new StepJobAdder(queue);
  await Promise.all(['a', 'b', 'c'].map((id) => adder.add(id, dataOf(id), `run1-${id}-1`)));

  expect(bulks).toEqual([3]);
  expect(await queue.getJobCountByTypes('waiting')).toBe(3);
  expect((await queue.getJob('run1-b-1'))?.data.pipeline).toBe('added-by-a-caller-that-crashed');
  expect((await queue.getJob('run1-c-1'))?.data.pipeline).toBe('p');
});

it('leaves out of its bulk a job dropped before it was sent', async () => {
  const adder = new StepJobAdder(queue);
  const added = ['a', 'b', 'c'].map((id) => adder.add(id, dataOf(id), `run1-${id}-1`));
  adder.drop('run1-b-1');
  await Promise.all(added);

  expect(bulks).toEqual([2]);
  expect(await queue.getJob('run1-b-1')).toBeUndefined();
  expect(await queue.getJobCountByTypes('waiting')).toBe(2);
});

it('fails only the job the queue refuses: the others of its bulk are added', async () => {
  const adder = new StepJobAdder(queue);
  // BullMQ refuses an integer custom id, and with it the whole bulk.
  const outcomes = await Promise.allSettled(['run1-a-1', '42', 'run1-c-1'].map((jobId) => adder.add('x', dataOf('x'), jobId)));

  expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/cannot be integers/);
  expect(bulks).toEqual([3]);
  expect(await queue.getJobCountByTypes('waiting')).toBe(2);
});
