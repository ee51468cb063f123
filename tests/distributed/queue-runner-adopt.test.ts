/**
 * QueueRunner.adopt on the local Redis, driven by hand: a resume that finds the job of a dead
 * caller which read other generations of the step's ancestors does not take messages about
 * that job while it decides (a wake-up would settle the step from the record the old job made),
 * and runs the step at the next generation.
 */
import { randomUUID } from 'node:crypto';
import { MemoryRunStore, type StepOutcome, type StepTask } from 'fastroai';
import { QueueRunner, queueChannels, stepJobId } from 'fastroai/distributed';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { encodeValue } from '../../src/store/encode-value';
import { makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { deferred } from '../support/async-helpers';
import { deleteKeys } from './support/distributed-fixture';
import { waitUntil } from './support/processes';

jest.setTimeout(30_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };
const QUEUE_NAME = 'fastroai-steps';

it("takes no message about a job it is adopting: a wake-up for the old job's record does not settle the step, which runs at the next generation", async () => {
  const prefix = `fastroai-adopt-${randomUUID()}`;
  const store = new MemoryRunStore();
  const queue = new Queue(QUEUE_NAME, { connection: CONNECTION, prefix });
  const taker = new Worker(QUEUE_NAME, null, { connection: CONNECTION, prefix });
  const publisher = new Redis(CONNECTION);
  const runner = new QueueRunner({ connection: CONNECTION, prefix, reconcileIntervalMs: 60_000 });
  try {
    // Epoch 1 ran b from a@1 (its job done, its record written); the resume (epoch 2) reran a: a@2.
    await store.createRun(makeRunRecord('r', { epoch: 1 }));
    await store.recordSteps('r', 1, [{ ...makeStepRecord('a'), output: encodeValue('a1') }]);
    const oldJobId = stepJobId('r', 'b', 1);
    await queue.add('b', { runId: 'r', stepId: 'b', generation: 1, pipeline: 'p', fingerprintDigest: 'd', epoch: 1 }, { jobId: oldJobId });
    const oldJob = (await taker.getNextJob('token'))!;
    await store.recordSteps('r', 1, [{ ...makeStepRecord('b'), output: encodeValue('b from a1') }]);
    await oldJob.moveToCompleted({ outcome: 'recorded', workerId: 'dead' }, 'token', false);
    await store.claimRun('r', 'owner', 60_000);
    await store.recordSteps('r', 2, [{ ...makeStepRecord('a', 2), output: encodeValue('a2') }]);

    // The resume's adopt waits on the job's state while the old job's wake-up comes.
    const gate = deferred();
    const internals = runner as unknown as { queue: Queue; waiting: Map<string, unknown> };
    const getJobState = internals.queue.getJobState.bind(internals.queue);
    let asked = false;
    internals.queue.getJobState = async (jobId: string) => {
      asked = true;
      await gate.promise;
      return getJobState(jobId);
    };
    const task = {
      runId: 'r',
      stepId: 'b',
      durable: { store, pipeline: 'p', fingerprint: 'f', generation: 1, epoch: 2, ancestorGenerations: { a: 2 } },
    } as unknown as StepTask;
    let outcome: StepOutcome | undefined;
    const running = runner.runStep(task).then((ended) => (outcome = ended));
    await waitUntil('adopt to ask for the job state', () => asked);
    const channels = queueChannels(prefix, QUEUE_NAME);
    expect(await publisher.publish(channels.ended, JSON.stringify({ recorded: [oldJobId] }))).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the wake-up is heard (and must not be taken)
    expect(outcome).toBeUndefined();

    gate.resolve();
    // b moves to generation 2 (another job): its record, when written, settles it.
    const nextJobId = stepJobId('r', 'b', 2);
    await waitUntil('the job at the next generation', async () => (await queue.getJobState(nextJobId)) === 'waiting');
    await store.recordSteps('r', 2, [{ ...makeStepRecord('b', 2), output: encodeValue('b from a2') }]);
    await publisher.publish(channels.ended, JSON.stringify({ recorded: [nextJobId] }));
    await running;

    expect(outcome!.output).toBe('b from a2');
    expect(outcome!.generation).toBe(2);
  } finally {
    await runner.close();
    await taker.close();
    await queue.close();
    publisher.disconnect();
    await deleteKeys(CONNECTION.port, `${prefix}:*`);
  }
});

it("does not fail a step for a failure of a job heard while adopting it, when it removed that job and added another", async () => {
  const prefix = `fastroai-adopt-${randomUUID()}`;
  const store = new MemoryRunStore();
  const queue = new Queue(QUEUE_NAME, { connection: CONNECTION, prefix });
  const taker = new Worker(QUEUE_NAME, null, { connection: CONNECTION, prefix });
  const publisher = new Redis(CONNECTION);
  const runner = new QueueRunner({ connection: CONNECTION, prefix, reconcileIntervalMs: 60_000 });
  try {
    // The dead caller's job of b failed (it stalled too often); the resume, without rerun, plans b alike.
    await store.createRun(makeRunRecord('r', { epoch: 1 }));
    await store.recordSteps('r', 1, [{ ...makeStepRecord('a'), output: encodeValue('a1') }]);
    const jobId = stepJobId('r', 'b', 1);
    await queue.add('b', { runId: 'r', stepId: 'b', generation: 1, pipeline: 'p', fingerprintDigest: 'd', epoch: 1 }, { jobId });
    const oldJob = (await taker.getNextJob('token'))!;
    await oldJob.moveToFailed(new Error('job stalled more than allowable limit'), 'token', false);
    await store.claimRun('r', 'owner', 60_000);
    const gate = deferred();
    const internals = runner as unknown as { queue: Queue };
    const getJobState = internals.queue.getJobState.bind(internals.queue);
    let asked = false;
    internals.queue.getJobState = async (id: string) => {
      asked = true;
      await gate.promise;
      return getJobState(id);
    };
    const task = { runId: 'r', stepId: 'b', durable: { store, pipeline: 'p', fingerprint: 'f', generation: 1, epoch: 2 } } as unknown as StepTask;
    let outcome: StepOutcome | undefined;
    const running = runner.runStep(task).then((ended) => (outcome = ended));
    await waitUntil('adopt to ask for the job state', () => asked);
    const channels = queueChannels(prefix, QUEUE_NAME);
    expect(await publisher.publish(channels.ended, JSON.stringify({ failed: jobId, reason: 'job stalled more than allowable limit' }))).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200)); // heard while adopting
    gate.resolve();

    // The failed job is removed and b's job added again: the step waits for it.
    await waitUntil('the job added again', async () => (await queue.getJobState(jobId)) === 'waiting');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(outcome).toBeUndefined();
    await store.recordSteps('r', 2, [{ ...makeStepRecord('b'), output: encodeValue('b') }]);
    await publisher.publish(channels.ended, JSON.stringify({ recorded: [jobId] }));
    await running;
    expect(outcome!.output).toBe('b');
  } finally {
    await runner.close();
    await taker.close();
    await queue.close();
    publisher.disconnect();
    await deleteKeys(CONNECTION.port, `${prefix}:*`);
  }
});

