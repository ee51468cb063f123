/**
 * Queue events are only a wake-up (issue 10): completion events lost, by the caller's
 * QueueEvents connection gone or by the events stream trimmed under it, and the run still
 * completes, from the store, within the reconciliation interval.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { PipelineEvent } from 'fastroai';
import { stepJobId } from 'fastroai/distributed';
import type { StepReconciler } from '../../src/distributed/step-reconciler';
import { useDistributedFixture } from './support/use-distributed-fixture';
import { DISTRIBUTED_INPUT, DISTRIBUTED_STEPS, distributedPipeline, executionsOf } from './support/distributed-pipeline';

jest.setTimeout(120_000);

const REPO_ROOT = join(__dirname, '..', '..');

/** The runner's QueueEvents (private): the tests listen to it, or close it. */
interface RunnerQueueEvents {
  close(): Promise<void>;
  on(event: 'completed', listener: (args: { jobId: string }) => void): void;
}

const fixture = useDistributedFixture();

it('completes from the store when the caller\'s QueueEvents connection is gone (every completion event lost)', async () => {
  // a holds 1 s once started: its completion event comes long after the caller closed its events connection.
  await fixture.startWorker('w1', { slow: { a: 1_000 } });
  const store = fixture.store();
  const runner = fixture.runner(300);
  const queueEvents = (runner as unknown as { queueEvents: RunnerQueueEvents }).queueEvents;
  let wakeUps = 0;
  queueEvents.on('completed', () => wakeUps++);
  let closing: Promise<void> | undefined;
  const events: PipelineEvent[] = [];
  const result = await distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
    store,
    runner,
    runId: 'lost-events',
    onEvent: (event) => {
      events.push(event);
      // Once the first step started on the worker (the runner is connected), its events connection goes away.
      if (event.type === 'step.started' && closing === undefined) closing = queueEvents.close();
    },
  });
  await closing;

  expect(wakeUps).toBe(0);
  expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
  for (const id of DISTRIBUTED_STEPS) expect(executionsOf(fixture.ledger, id)).toBe(1);
  expect(events.filter((event) => event.type === 'step.completed')).toHaveLength(DISTRIBUTED_STEPS.length);
});

it('settles steps whose completion events were all lost in quiet rounds, without waiting for the regular reconciliation', async () => {
  await fixture.startWorker('w1', { slow: { a: 1_000 } });
  const store = fixture.store();
  // A regular round only after a minute: every step below is settled by a quiet round (no event heard for a while).
  const runner = fixture.runner(60_000);
  const queueEvents = (runner as unknown as { queueEvents: RunnerQueueEvents }).queueEvents;
  let closing: Promise<void> | undefined;
  const completed: string[] = [];
  const result = await distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
    store,
    runner,
    runId: 'quiet-rounds',
    onEvent: (event) => {
      if (event.type === 'step.started' && closing === undefined) closing = queueEvents.close();
      if (event.type === 'step.completed') completed.push(event.stepId);
    },
  });
  await closing;

  expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
  expect(completed.sort()).toEqual([...DISTRIBUTED_STEPS]);
  const counts = (runner as unknown as { reconciler: StepReconciler }).reconciler.counts;
  expect(counts.rounds).toBe(0);
  expect(counts.quietSettled).toBe(DISTRIBUTED_STEPS.length);
});

/**
 * A child process that waits until the events stream `key` holds the `completed` event of job
 * `jobId`, then trims the stream to nothing (XTRIM MAXLEN 0) and prints how many entries it removed.
 */
const TRIM_WHEN_COMPLETED = `
const Redis = require('ioredis');
const [key, jobId, port] = process.argv.slice(1);
const redis = new Redis({ host: '127.0.0.1', port: Number(port) });
(async () => {
  const deadline = Date.now() + 60000;
  for (;;) {
    const entries = await redis.xrange(key, '-', '+');
    if (entries.some(([, fields]) => fields.includes('completed') && fields[fields.indexOf('jobId') + 1] === jobId)) break;
    if (Date.now() > deadline) throw new Error('no completed event of ' + jobId + ' in ' + key);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.stdout.write(String(await redis.xtrim(key, 'MAXLEN', 0)));
  await redis.quit();
})().catch((error) => { console.error(error); process.exit(1); });
`;

it('completes from the store when the events stream is trimmed before the caller read a completion event', async () => {
  await fixture.startWorker('w1');
  const store = fixture.store();
  const runner = fixture.runner(300);
  const queueEvents = (runner as unknown as { queueEvents: RunnerQueueEvents }).queueEvents;
  const runId = 'trimmed-events';
  const jobOf = (stepId: string) => stepJobId(runId, stepId, 1);
  const eventsKey = `${fixture.prefix}:${runner.queueName}:events`;
  const seen: string[] = [];
  let trimmed: { entries: number; at: number } | undefined;
  queueEvents.on('completed', ({ jobId }) => {
    seen.push(jobId);
    if (jobId !== jobOf('b') || trimmed !== undefined) return;
    // b completed, c (3 s slower: b's event is read long before c's exists, even on a loaded
    // machine) runs. The caller stops here, inside the handling of b's event, so
    // its QueueEvents does not read the stream again until c's completion is in it and trimmed away.
    const entries = execFileSync(process.execPath, ['-e', TRIM_WHEN_COMPLETED, eventsKey, jobOf('c'), String(fixture.redisPort)], { cwd: REPO_ROOT, encoding: 'utf8' });
    trimmed = { entries: Number(entries), at: Date.now() };
  });
  const completedAt = new Map<string, number>();
  const result = await distributedPipeline({ ledger: fixture.ledger, label: 'caller', slow: { c: 3_000 } }).execute(DISTRIBUTED_INPUT, undefined, {
    store,
    runner,
    runId,
    onEvent: (event) => {
      if (event.type === 'step.completed') completedAt.set(event.stepId, Date.now());
    },
  });

  expect(trimmed?.entries).toBeGreaterThan(0);
  // c's completion event was lost; the events of later steps reach the caller again.
  expect(seen).toContain(jobOf('b'));
  expect(seen).not.toContain(jobOf('c'));
  expect(seen).toContain(jobOf('f'));
  expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
  for (const id of DISTRIBUTED_STEPS) expect(executionsOf(fixture.ledger, id)).toBe(1);
  expect([...completedAt.keys()].sort()).toEqual([...DISTRIBUTED_STEPS]);
  // Settled by reconciliation (every 300 ms): a generous bound, that only tells it from a hang.
  expect(completedAt.get('c')! - trimmed!.at).toBeLessThan(10_000);
});
