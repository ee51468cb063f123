/**
 * Queue events are only a wake-up (issue 10): with the caller's QueueEvents connection gone
 * mid-run, no completion event ever reaches it, and the run still completes, from the store,
 * within the reconciliation interval.
 */
import type { PipelineEvent } from 'fastroai';
import { DistributedFixture } from './support/distributed-fixture';
import { DISTRIBUTED_INPUT, DISTRIBUTED_STEPS, distributedPipeline, executionsOf } from './support/distributed-pipeline';
import { killAll } from './support/processes';

jest.setTimeout(120_000);

let fixture: DistributedFixture;

beforeEach(() => {
  fixture = new DistributedFixture();
});

afterEach(async () => {
  await killAll();
  await fixture.dispose();
});

it('completes from the store when the caller\'s QueueEvents connection is gone (every completion event lost)', async () => {
  await fixture.startWorker('w1');
  const store = fixture.store();
  const runner = fixture.runner(300);
  const queueEvents = (runner as unknown as { queueEvents: { close(): Promise<void>; on(event: string, listener: () => void): void } }).queueEvents;
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
