/**
 * QueueRunner and createStepWorker with real worker processes (issue 10): a run through two
 * workers gives the in-process result, its events and timings name the worker of each step,
 * and each step is recorded once, by the worker that ran it.
 */
import { Pipeline, step, type PipelineEvent } from 'fastroai';
import { useDistributedFixture } from './support/use-distributed-fixture';
import { DISTRIBUTED_INPUT, DISTRIBUTED_STEPS, distributedPipeline, executionsOf, summarize } from './support/distributed-pipeline';

jest.setTimeout(120_000);

const fixture = useDistributedFixture({ closeWorkersFirst: true });

describe('QueueRunner', () => {
  it('runs a run through two worker processes with the in-process result, and events, timings and records name each step\'s worker', async () => {
    await Promise.all([fixture.startWorker('w1', { slow: { b: 1_000, c: 1_000 } }), fixture.startWorker('w2', { slow: { b: 1_000, c: 1_000 } })]);
    const store = fixture.store();
    const events: PipelineEvent[] = [];
    const pipeline = distributedPipeline({ ledger: fixture.ledger, label: 'caller' });
    const result = await pipeline.execute(DISTRIBUTED_INPUT, undefined, {
      store,
      runner: fixture.runner(),
      runId: 'basic',
      onEvent: (event) => events.push(event),
    });

    const inProcess = await distributedPipeline({ ledger: `${fixture.ledger}.local`, label: 'local' }).execute(DISTRIBUTED_INPUT);
    expect(summarize(result)).toEqual(summarize(inProcess));
    expect(result.usage?.totalCostMicrocents).toBe(321_000);

    // Each step ran once, on a worker (never in the caller).
    for (const id of DISTRIBUTED_STEPS) expect(executionsOf(fixture.ledger, id)).toBe(1);
    const workers = new Set(['w1', 'w2']);
    const started = events.filter((event) => event.type === 'step.started');
    const completed = events.filter((event) => event.type === 'step.completed');
    expect(started.map((event) => event.stepId).sort()).toEqual([...DISTRIBUTED_STEPS]);
    expect(completed.map((event) => event.stepId).sort()).toEqual([...DISTRIBUTED_STEPS]);
    for (const event of [...started, ...completed]) expect(workers.has(event.workerId!)).toBe(true);
    // Each step's start comes before its end; b and c ran in parallel, on both workers.
    for (const id of DISTRIBUTED_STEPS) {
      expect(events.findIndex((event) => event.type === 'step.started' && event.stepId === id)).toBeLessThan(
        events.findIndex((event) => event.type === 'step.completed' && event.stepId === id),
      );
    }
    const workerOf = Object.fromEntries(completed.map((event) => [event.stepId, event.workerId]));
    expect(new Set([workerOf.b, workerOf.c])).toEqual(workers);
    expect(events[events.length - 1].type).toBe('pipeline.completed');

    for (const id of DISTRIBUTED_STEPS) expect(result.timings[id].workerId).toBe(workerOf[id]);
    expect(result.timings.d.startMs).toBeGreaterThanOrEqual(Math.max(result.timings.b.endMs, result.timings.c.endMs) - 5);

    const stored = await store.getRun('basic');
    expect(stored!.run.status).toBe('completed');
    expect(stored!.run.costMicrocents).toBe(321_000);
    expect(stored!.steps.map((record) => `${record.stepId}@${record.generation}:${record.status}:${record.workerId}`).sort()).toEqual(
      DISTRIBUTED_STEPS.map((id) => `${id}@1:completed:${workerOf[id]}`),
    );
  });

  it('a resume that reruns a step runs it and its dependents on workers, each on the generations the resume planned', async () => {
    await Promise.all([fixture.startWorker('w1'), fixture.startWorker('w2')]);
    const store = fixture.store();
    const pipeline = distributedPipeline({ ledger: fixture.ledger, label: 'caller' });
    await pipeline.execute(DISTRIBUTED_INPUT, undefined, { store, runner: fixture.runner(), runId: 'rerun' });
    // a's new generation reads the new topic: a dependent that read a's first generation would show the old one.
    const input = { ...DISTRIBUTED_INPUT, topic: 'porto' };
    const resumed = await pipeline.resume('rerun', { input, rerun: ['a'], store, runner: fixture.runner() });

    const inProcess = await distributedPipeline({ ledger: `${fixture.ledger}.local`, label: 'local' }).execute(input);
    expect(summarize(resumed)).toEqual(summarize(inProcess));
    for (const id of DISTRIBUTED_STEPS) expect(executionsOf(fixture.ledger, id)).toBe(2);
    const stored = await store.getRun('rerun');
    expect(stored!.steps.map((record) => `${record.stepId}@${record.generation}`).sort()).toEqual(
      DISTRIBUTED_STEPS.flatMap((id) => [`${id}@1`, `${id}@2`]),
    );
  });

  it('refuses to run without a store', async () => {
    const pipeline = new Pipeline({ name: 'no-store', steps: { a: step(() => 1) } });
    await expect(pipeline.execute({}, undefined, { runner: fixture.runner() })).rejects.toThrow(/^QueueRunner needs a store/);
  });
});
