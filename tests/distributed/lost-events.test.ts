/**
 * The workers' wake-ups are only a wake-up (issue 10): wake-ups lost, by the caller's
 * subscriber connection gone or by a message published while the caller was not subscribed,
 * and the run still completes, from the store, within the reconciliation interval.
 */
import type { PipelineEvent } from 'fastroai';
import { queueChannels, stepJobId, type QueueRunner } from 'fastroai/distributed';
import Redis from 'ioredis';
import type { StepReconciler } from '../../src/distributed/step-reconciler';
import type { StepsEndedMessage } from '../../src/distributed/step-worker-message';
import { useDistributedFixture } from './support/use-distributed-fixture';
import { waitUntil } from '../support/child-processes';
import { DISTRIBUTED_INPUT, DISTRIBUTED_STEPS, distributedPipeline, executionsOf } from './support/distributed-pipeline';

jest.setTimeout(120_000);

const fixture = useDistributedFixture();

/** The runner's subscriber (private): the tests listen to it, disconnect it, or unsubscribe it. */
function subscriberOf(runner: QueueRunner): Redis {
  return (runner as unknown as { subscriber: Redis }).subscriber;
}

/** The job ids named by the `recorded` wake-ups that reach `subscriber`. */
function recordedWakeUps(subscriber: Redis, onWakeUp: (jobIds: string[]) => void = () => undefined): string[] {
  const { ended } = queueChannels(fixture.prefix, 'fastroai-steps');
  const seen: string[] = [];
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== ended) return;
    const message = JSON.parse(text) as StepsEndedMessage;
    if (!('recorded' in message)) return;
    seen.push(...message.recorded);
    onWakeUp(message.recorded);
  });
  return seen;
}

/** A connection of the test's own that hears every wake-up the workers send. */
async function wakeUpWitness(): Promise<{ seen: string[]; close(): void }> {
  const redis = new Redis({ host: '127.0.0.1', port: fixture.redisPort });
  await redis.subscribe(queueChannels(fixture.prefix, 'fastroai-steps').ended);
  return { seen: recordedWakeUps(redis), close: () => redis.disconnect() };
}

it("completes from the store when the caller's subscriber connection is gone (every wake-up lost)", async () => {
  // a holds 1 s once started: its wake-up comes long after the caller's subscriber went away.
  await fixture.startWorker('w1', { slow: { a: 1_000 } });
  const store = fixture.store();
  const runner = fixture.runner(300);
  const subscriber = subscriberOf(runner);
  const heard = recordedWakeUps(subscriber);
  const witness = await wakeUpWitness();
  let disconnected = false;
  const events: PipelineEvent[] = [];
  const result = await distributedPipeline({ ledger: fixture.ledger, label: 'caller' })
    .execute(DISTRIBUTED_INPUT, undefined, {
      store,
      runner,
      runId: 'lost-events',
      onEvent: (event) => {
        events.push(event);
        // Once the first step started on the worker (the runner is connected), its subscriber goes away.
        if (event.type === 'step.started' && !disconnected) {
          disconnected = true;
          subscriber.disconnect();
        }
      },
    })
    // The run may settle from the store before the last wake-up reached the witness.
    .finally(() => waitUntil('every wake-up at the witness', () => witness.seen.length >= DISTRIBUTED_STEPS.length, 10_000).finally(() => witness.close()));

  // The workers sent a wake-up for every step; the caller heard none of them.
  expect([...witness.seen].sort()).toEqual(DISTRIBUTED_STEPS.map((id) => stepJobId('lost-events', id, 1)).sort());
  expect(heard).toEqual([]);
  expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
  for (const id of DISTRIBUTED_STEPS) expect(executionsOf(fixture.ledger, id)).toBe(1);
  expect(events.filter((event) => event.type === 'step.completed')).toHaveLength(DISTRIBUTED_STEPS.length);
});

it('settles steps whose wake-ups were all lost in quiet rounds, without waiting for the regular reconciliation', async () => {
  await fixture.startWorker('w1', { slow: { a: 1_000 } });
  const store = fixture.store();
  // A regular round only after a minute: every step below is settled by a quiet round (no event heard for a while).
  const runner = fixture.runner(60_000);
  const subscriber = subscriberOf(runner);
  let disconnected = false;
  const completed: string[] = [];
  const result = await distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
    store,
    runner,
    runId: 'quiet-rounds',
    onEvent: (event) => {
      if (event.type === 'step.started' && !disconnected) {
        disconnected = true;
        subscriber.disconnect();
      }
      if (event.type === 'step.completed') completed.push(event.stepId);
    },
  });

  expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
  expect(completed.sort()).toEqual([...DISTRIBUTED_STEPS]);
  const counts = (runner as unknown as { reconciler: StepReconciler }).reconciler.counts;
  expect(counts.rounds).toBe(0);
  expect(counts.quietSettled).toBe(DISTRIBUTED_STEPS.length);
});

it("completes from the store when a wake-up is published while the caller is not subscribed (lost), and hears the later ones", async () => {
  // c holds 3 s on the worker (where steps run: the caller's `slow` below runs nothing), and b and
  // c run together: c always ends 3 s after b, whichever job the worker takes first.
  await fixture.startWorker('w1', { concurrency: 2, slow: { c: 3_000 } });
  const store = fixture.store();
  const runner = fixture.runner(300);
  const subscriber = subscriberOf(runner);
  const { ended } = queueChannels(fixture.prefix, runner.queueName);
  const runId = 'lost-wake-up';
  const jobOf = (stepId: string) => stepJobId(runId, stepId, 1);
  const witness = await wakeUpWitness();
  let lost: { resubscribed: Promise<unknown>; at: number } | undefined;
  const heard = recordedWakeUps(subscriber, (jobIds) => {
    if (!jobIds.includes(jobOf('b')) || lost !== undefined) return;
    // b was recorded, c (3 s slower: b's wake-up is heard long before c's is sent, even on a loaded
    // machine) runs. The caller stops listening until the worker has sent c's wake-up.
    const unsubscribed = subscriber.unsubscribe(ended);
    const resubscribed = (async () => {
      await unsubscribed;
      const deadline = Date.now() + 60_000;
      while (!witness.seen.includes(jobOf('c'))) {
        if (Date.now() > deadline) throw new Error("no wake-up for c's job");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      lost!.at = Date.now();
      await subscriber.subscribe(ended);
    })();
    lost = { resubscribed, at: Number.NaN };
  });
  const completedAt = new Map<string, number>();
  const result = await distributedPipeline({ ledger: fixture.ledger, label: 'caller', slow: { c: 3_000 } })
    .execute(DISTRIBUTED_INPUT, undefined, {
      store,
      runner,
      runId,
      onEvent: (event) => {
        if (event.type === 'step.completed') completedAt.set(event.stepId, Date.now());
      },
    })
    // The run may settle from the store (reconciliation) before f's wake-up came.
    .finally(() => waitUntil("f's wake-up", () => witness.seen.includes(jobOf('f')) && heard.includes(jobOf('f')), 10_000).finally(() => witness.close()));
  await lost?.resubscribed;

  // c's wake-up was sent and lost; the wake-ups of later steps reach the caller again.
  expect(witness.seen).toContain(jobOf('c'));
  expect(heard).toContain(jobOf('b'));
  expect(heard).not.toContain(jobOf('c'));
  expect(heard).toContain(jobOf('f'));
  expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
  for (const id of DISTRIBUTED_STEPS) expect(executionsOf(fixture.ledger, id)).toBe(1);
  expect([...completedAt.keys()].sort()).toEqual([...DISTRIBUTED_STEPS]);
  // Settled by reconciliation (every 300 ms): a generous bound, that only tells it from a hang.
  expect(completedAt.get('c')! - lost!.at).toBeLessThan(10_000);
});

it("ignores what others publish on its channels (null, numbers, arrays, fields of the wrong type, records that are not, not JSON), as the worker does, and completes", async () => {
  await fixture.startWorker('w1', { slow: { a: 500 } });
  const store = fixture.store();
  const runner = fixture.runner(300);
  const { ended, progress } = queueChannels(fixture.prefix, runner.queueName);
  const publisher = new Redis({ host: '127.0.0.1', port: fixture.redisPort });
  const junk = ['null', '42', '"text"', '[1,2]', '{"recorded":"not a list"}', '{"recorded":["x-a-1"],"records":"not a list"}', '{"recorded":["x-a-1"],"records":[5,null,{}]}', '{"failed":7}', '{"jobId":null}', 'not json'];
  let published = 0;
  try {
    const result = await distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
      store,
      runner,
      runId: 'junk-messages',
      onEvent: (event) => {
        // Once a (started) is heard, the runner is subscribed to both channels.
        if (event.type === 'step.started' && event.stepId === 'a' && published === 0) {
          for (const text of junk) for (const channel of [ended, progress]) void publisher.publish(channel, text).then((receivers) => (published += receivers));
        }
      },
    });
    expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
  } finally {
    publisher.disconnect();
  }
  // Every junk message reached the runner's subscriber, and those on `ended` the worker's too (it reads records ahead from the wake-ups).
  expect(published).toBe(junk.length * 3);
  for (const id of DISTRIBUTED_STEPS) expect(executionsOf(fixture.ledger, id)).toBe(1);
});
