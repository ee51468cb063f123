/**
 * The job lock fence of a worker (JobLockWatch) on real BullMQ jobs, taken by a worker on the
 * local Redis under a unique prefix: a lock known valid for half its duration is confirmed
 * without Redis; an older one is extended in Redis; a worker whose event loop blocked past its
 * lock is refused without asking; BullMQ's renewals count from when they were sent.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type Redis from 'ioredis';
import { JobLockWatch } from '../../src/distributed/job-lock-watch';
import { watchLockRenewals } from '../../src/distributed/watch-lock-renewals';
import { WorkerLostError } from '../../src/errors/worker-lost-error';
import { sleep } from '../support/async-helpers';
import { deleteKeys } from './support/distributed-fixture';

jest.setTimeout(30_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };
const QUEUE_NAME = 'lock-watch';
const TOKEN = 'lock-watch-token';

let prefix: string;
let queue: Queue;
const closables: Array<{ close(): Promise<void> }> = [];

beforeEach(() => {
  prefix = `fastroai-lock-${randomUUID()}`;
  queue = new Queue(QUEUE_NAME, { connection: CONNECTION, prefix });
});

afterEach(async () => {
  for (const closable of closables.splice(0).reverse()) await closable.close().catch(() => undefined);
  await queue.close();
  await deleteKeys(CONNECTION.port, `${prefix}:*`);
});

/** A job taken by a (manual) worker with this lock duration, its `extendLock` calls counted. */
async function takeJob(lockDuration: number): Promise<{ job: Job; extendLockCalls: () => number }> {
  await queue.add('step', {});
  const worker = new Worker(QUEUE_NAME, null, { connection: CONNECTION, prefix, lockDuration });
  worker.on('error', () => undefined); // a lock left to expire
  closables.push(worker);
  const job = (await worker.getNextJob(TOKEN))!;
  let calls = 0;
  const extendLock = job.extendLock.bind(job);
  job.extendLock = (token: string, duration: number) => {
    calls++;
    return extendLock(token, duration);
  };
  return { job, extendLockCalls: () => calls };
}

/** A watch on `job`, stopped after the test; its `onLost` reports collected. */
function watch(job: Job, lockDuration: number, lost: WorkerLostError[] = []): JobLockWatch {
  const lockWatch = new JobLockWatch(job, TOKEN, 'step', lockDuration, (error) => lost.push(error));
  closables.push({ close: async () => lockWatch.stop() });
  return lockWatch;
}

it('confirms a lock taken less than half its duration ago without asking Redis', async () => {
  const { job, extendLockCalls } = await takeJob(4_000);
  const lockWatch = watch(job, 4_000);

  expect(await lockWatch.confirm()).toBe(true);
  expect(await lockWatch.confirm()).toBe(true);
  expect(extendLockCalls()).toBe(0);
});

it('extends in Redis a lock taken longer ago than that, counting from when BullMQ took the job, not from the watch', async () => {
  const { job, extendLockCalls } = await takeJob(1_000);
  await sleep(400); // more than lockDuration / 2 - margin (300 ms) since the job was taken
  const lockWatch = watch(job, 1_000); // made now: a watch counting from here would skip Redis

  expect(await lockWatch.confirm()).toBe(true);
  expect(extendLockCalls()).toBe(1);
  // Extended just now: the next confirm needs no Redis.
  expect(await lockWatch.confirm()).toBe(true);
  expect(extendLockCalls()).toBe(1);
  const lockMs = await ((await queue.client) as unknown as Redis).pttl(`${prefix}:${QUEUE_NAME}:${job.id}:lock`);
  expect(lockMs).toBeGreaterThan(500);
});

it('refuses a worker whose event loop blocked past its lock, without asking Redis, and reports it once', async () => {
  const { job, extendLockCalls } = await takeJob(1_000);
  const lost: WorkerLostError[] = [];
  const lockWatch = watch(job, 1_000, lost);
  const until = Date.now() + 1_100;
  while (Date.now() < until) {
    // blocked: no timer, no renewal runs
  }

  expect(await lockWatch.confirm()).toBe(false);
  expect(WorkerLostError.isInstance(lockWatch.error)).toBe(true);
  expect(lockWatch.error!.message).toContain('its job lock expired');
  expect(lost).toEqual([lockWatch.error]);
  expect(extendLockCalls()).toBe(0);
  // Renewals reported afterwards do not revive it.
  lockWatch.renewed(Date.now());
  expect(await lockWatch.confirm()).toBe(false);
});

it('counts a renewal from when BullMQ sent it, not from when Redis answered', async () => {
  const worker = new Worker(
    QUEUE_NAME,
    async () => {
      await sleep(1_200); // long enough for a renewal (every lockDuration / 2)
    },
    { connection: CONNECTION, prefix, lockDuration: 1_000, autorun: false },
  );
  worker.on('error', () => undefined);
  closables.push(worker);
  // A slow Redis: the renewal's answer comes 150 ms after it was sent.
  const extendJobLocks = worker.extendJobLocks.bind(worker);
  worker.extendJobLocks = async (jobIds, tokens, duration) => {
    await sleep(150);
    return extendJobLocks(jobIds, tokens, duration);
  };
  const renewals: Array<{ jobIds: readonly string[]; sentAtMs: number; answeredAtMs: number }> = [];
  watchLockRenewals(worker, { renewed: (jobIds, sentAtMs) => renewals.push({ jobIds, sentAtMs, answeredAtMs: Date.now() }), failed: () => undefined });
  const done = new Promise<void>((resolve) => worker.once('completed', () => resolve()));
  const added = await queue.add('step', {});
  void worker.run();
  await done;

  expect(renewals.length).toBeGreaterThan(0);
  expect(renewals[0].jobIds).toEqual([added.id]);
  expect(renewals[0].answeredAtMs - renewals[0].sentAtMs).toBeGreaterThanOrEqual(150);
});
