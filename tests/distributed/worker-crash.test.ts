/**
 * Processes killed mid-run (issue 10): a worker killed with SIGKILL mid-step, and a caller
 * killed with SIGKILL with a step in flight then resumed from another process. A ledger file
 * written before each step's work counts executions across processes.
 */
import { type PipelineEvent } from 'fastroai';
import { useDistributedFixture } from './support/use-distributed-fixture';
import { DISTRIBUTED_STEPS, distributedPipeline, executionsOf } from './support/distributed-pipeline';
import { startChild, waitUntil } from './support/processes';
import type { CallerChildOptions } from './support/caller-child';

jest.setTimeout(180_000);

const LOCK_DURATION_MS = 2_000;
const STALLED_INTERVAL_MS = 500;

const fixture = useDistributedFixture();

describe('a worker killed mid-step', () => {
  it('has its step picked up by another worker within lockDuration + 2 × stalledInterval; the run completes, each step recorded once, its dependents run once', async () => {
    const timing = { lockDuration: LOCK_DURATION_MS, stalledInterval: STALLED_INTERVAL_MS };
    const workers = { w1: await fixture.startWorker('w1', { ...timing, hangFirst: 'd' }), w2: await fixture.startWorker('w2', { ...timing, hangFirst: 'd' }) };
    const store = fixture.store();
    const events: PipelineEvent[] = [];
    const run = distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute({ topic: 'lisbon', at: 1_700_000_000_000 }, undefined, {
      store,
      runner: fixture.runner(500),
      runId: 'worker-killed',
      onEvent: (event) => events.push(event),
    });

    await waitUntil('d to start on a worker', () => executionsOf(fixture.ledger, 'd') === 1);
    const victim = fixture.ledgerLines().find((line) => line.endsWith(' d'))!.split(' ')[0] as 'w1' | 'w2';
    const survivor = victim === 'w1' ? 'w2' : 'w1';
    await workers[victim].kill();
    const killedAt = Date.now();
    await waitUntil('d to start again', () => executionsOf(fixture.ledger, 'd') === 2);
    const pickedUpMs = Date.now() - killedAt;

    const result = await run;
    expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
    // Generous upper bound (the only timing assertion): the lock expires after lockDuration and
    // the survivor's stalled check runs every stalledInterval; 5 s more for a loaded machine
    // (timers late, ledger polling). Without the stalled check it would take forever.
    expect(pickedUpMs).toBeLessThan(LOCK_DURATION_MS + 2 * STALLED_INTERVAL_MS + 5_000);
    expect(fixture.ledgerLines().filter((line) => line.endsWith(' d'))).toEqual([`${victim} d`, `${survivor} d`]);
    for (const id of ['e', 'f']) expect(executionsOf(fixture.ledger, id)).toBe(1);
    const records = (await store.getRun('worker-killed'))!.steps;
    expect(records.map((record) => `${record.stepId}@${record.generation}`).sort()).toEqual(DISTRIBUTED_STEPS.map((id) => `${id}@1`));
    expect(records.find((record) => record.stepId === 'd')!.workerId).toBe(survivor);
    expect(result.timings.d.workerId).toBe(survivor);
    expect(events.filter((event) => event.type === 'step.completed').length).toBe(DISTRIBUTED_STEPS.length);
  });
});

describe('a caller killed with a step in flight', () => {
  it('is resumed from another process, which adopts the job in flight: each step executes once', async () => {
    await fixture.startWorker('w1', { slow: { d: 6_000 } });
    await fixture.startWorker('w2', { slow: { d: 6_000 } });
    const options: CallerChildOptions = { runId: 'caller-killed', ledger: fixture.ledger, redisPort: 6379, prefix: fixture.prefix, leaseSeconds: 1 };
    const caller = startChild('caller-child.ts', [fixture.storeSpec, JSON.stringify(options)], 'caller');
    await waitUntil('d to start on a worker', () => executionsOf(fixture.ledger, 'd') === 1);
    await caller.kill();

    const store = fixture.store();
    const leaseUntil = (await store.getRun('caller-killed'))!.run.leaseUntil;
    await waitUntil('the dead caller\'s lease to expire', () => Date.now() > leaseUntil);
    expect((await store.getRun('caller-killed'))!.steps.map((record) => record.stepId)).not.toContain('d'); // still in flight
    const events: PipelineEvent[] = [];
    const result = await distributedPipeline({ ledger: fixture.ledger, label: 'resumer' }).resume('caller-killed', {
      store,
      runner: fixture.runner(),
      onEvent: (event) => events.push(event),
    });

    expect(result.output).toMatchObject({ final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) });
    for (const id of DISTRIBUTED_STEPS) expect(executionsOf(fixture.ledger, id)).toBe(1);
    // d was adopted in flight (not restored: it had no record when the resume began).
    const dCompleted = events.find((event) => event.type === 'step.completed' && event.stepId === 'd');
    expect(dCompleted).toMatchObject({ workerId: expect.stringMatching(/^w[12]$/) });
    expect(dCompleted).not.toHaveProperty('restored');
    const records = (await store.getRun('caller-killed'))!.steps;
    expect(records.map((record) => `${record.stepId}@${record.generation}`).sort()).toEqual(DISTRIBUTED_STEPS.map((id) => `${id}@1`));
    expect(result.usage?.totalCostMicrocents).toBe(321_000);
  });
});
