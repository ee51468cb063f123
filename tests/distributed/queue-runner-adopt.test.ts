/**
 * QueueRunner.adopt on the local Redis, driven by hand: a resume that finds the job of a dead
 * caller which read other generations of the step's ancestors does not take messages about
 * that job while it decides (a wake-up would settle the step from the record the old job made),
 * and runs the step at the next generation; a failure heard meanwhile of a job that adopt then
 * removes and adds again does not fail the step.
 */
import { randomUUID } from 'node:crypto';
import { MemoryRunStore, type StepOutcome, type StepTask } from 'fastroai';
import { QueueRunner, queueChannels, stepJobId } from 'fastroai/distributed';
import { Queue, Worker, type Job } from 'bullmq';
import Redis from 'ioredis';
import { encodeValue } from '../../src/store/encode-value';
import { makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { deferred } from '../support/async-helpers';
import { deleteKeys } from './support/distributed-fixture';
import { waitUntil } from './support/processes';

jest.setTimeout(30_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };
const QUEUE_NAME = 'fastroai-steps';

/**
 * Run `r` (a recorded as a1) in a MemoryRunStore, b's job of the dead caller (epoch 1) taken by
 * a manual worker, and a resuming runner whose `adopt` waits on the job's state until `release()`.
 */
async function adoptWorld() {
  const prefix = `fastroai-adopt-${randomUUID()}`;
  const store = new MemoryRunStore();
  const queue = new Queue(QUEUE_NAME, { connection: CONNECTION, prefix });
  const taker = new Worker(QUEUE_NAME, null, { connection: CONNECTION, prefix });
  const publisher = new Redis(CONNECTION);
  const runner = new QueueRunner({ connection: CONNECTION, prefix, reconcileIntervalMs: 60_000 });
  await store.createRun(makeRunRecord('r', { epoch: 1 }));
  await store.recordSteps('r', 1, [{ ...makeStepRecord('a'), output: encodeValue('a1') }]);
  const oldJobId = stepJobId('r', 'b', 1);
  await queue.add('b', { runId: 'r', stepId: 'b', generation: 1, pipeline: 'p', fingerprintDigest: 'd', epoch: 1 }, { jobId: oldJobId });
  const oldJob: Job = (await taker.getNextJob('token'))!;
  const gate = deferred();
  const internals = runner as unknown as { queue: Queue };
  const getJobState = internals.queue.getJobState.bind(internals.queue);
  let asked = false;
  internals.queue.getJobState = async (jobId: string) => {
    asked = true;
    await gate.promise;
    return getJobState(jobId);
  };
  let outcome: StepOutcome | undefined;
  const channels = queueChannels(prefix, QUEUE_NAME);
  return {
    store,
    queue,
    oldJob,
    oldJobId,
    outcome: () => outcome,
    /** Starts the resume's step b (epoch 2), planned on `ancestorGenerations`, and returns once adopt waits: `running` resolves with its end. */
    async resumeB(ancestorGenerations?: Record<string, number>): Promise<{ running: Promise<unknown> }> {
      const durable = { store, pipeline: 'p', fingerprint: 'f', generation: 1, epoch: 2, ...(ancestorGenerations === undefined ? {} : { ancestorGenerations }) };
      const running = runner.runStep({ runId: 'r', stepId: 'b', durable } as unknown as StepTask).then((ended) => (outcome = ended));
      await waitUntil('adopt to ask for the job state', () => asked);
      return { running };
    },
    /** Publishes a message on the workers' wake-up channel, and gives the runner time to hear it. */
    async wakeUp(message: object): Promise<void> {
      expect(await publisher.publish(channels.ended, JSON.stringify(message))).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
    },
    release: () => gate.resolve(),
    async dispose(): Promise<void> {
      await runner.close();
      await taker.close();
      await queue.close();
      publisher.disconnect();
      await deleteKeys(CONNECTION.port, `${prefix}:*`);
    },
  };
}

it("takes no message about a job it is adopting: a wake-up for the old job's record does not settle the step, which runs at the next generation", async () => {
  const world = await adoptWorld();
  try {
    // Epoch 1 ran b from a@1 (its job done, its record written); the resume (epoch 2) reran a: a@2.
    await world.store.recordSteps('r', 1, [{ ...makeStepRecord('b'), output: encodeValue('b from a1') }]);
    await world.oldJob.moveToCompleted({ outcome: 'recorded', workerId: 'dead' }, 'token', false);
    await world.store.claimRun('r', 'owner', 60_000);
    await world.store.recordSteps('r', 2, [{ ...makeStepRecord('a', 2), output: encodeValue('a2') }]);

    const { running } = await world.resumeB({ a: 2 });
    await world.wakeUp({ recorded: [world.oldJobId] });
    expect(world.outcome()).toBeUndefined();
    world.release();

    // b moves to generation 2 (another job): its record, when written, settles it.
    const nextJobId = stepJobId('r', 'b', 2);
    await waitUntil('the job at the next generation', async () => (await world.queue.getJobState(nextJobId)) === 'waiting');
    await world.store.recordSteps('r', 2, [{ ...makeStepRecord('b', 2), output: encodeValue('b from a2') }]);
    await world.wakeUp({ recorded: [nextJobId] });
    await running;
    expect(world.outcome()!.output).toBe('b from a2');
    expect(world.outcome()!.generation).toBe(2);
  } finally {
    await world.dispose();
  }
});

it('does not fail a step for a failure of a job heard while adopting it, when it removed that job and added another', async () => {
  const world = await adoptWorld();
  try {
    // The dead caller's job of b failed (it stalled too often); the resume, without rerun, plans b alike.
    await world.oldJob.moveToFailed(new Error('job stalled more than allowable limit'), 'token', false);
    await world.store.claimRun('r', 'owner', 60_000);

    const { running } = await world.resumeB();
    await world.wakeUp({ failed: world.oldJobId, reason: 'job stalled more than allowable limit' });
    world.release();

    // The failed job is removed and b's job added again: the step waits for it.
    await waitUntil('the job added again', async () => (await world.queue.getJobState(world.oldJobId)) === 'waiting');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(world.outcome()).toBeUndefined();
    await world.store.recordSteps('r', 2, [{ ...makeStepRecord('b'), output: encodeValue('b') }]);
    await world.wakeUp({ recorded: [world.oldJobId] });
    await running;
    expect(world.outcome()!.output).toBe('b');
  } finally {
    await world.dispose();
  }
});
