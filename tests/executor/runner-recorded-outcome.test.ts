/**
 * The runner seam of a remote runner (API.md §13), in one process: a runner that records each
 * step in the store itself (as a queue worker does) and says so (`StepOutcome.recorded`) is
 * not written again by the run; a runner that reports starts (`reportsStepStarts`) gets no
 * `step.started` from the run at launch; the step's worker and times come from its record.
 */
import { MemoryRunStore, Pipeline, runStepTask, step, type PipelineEvent, type RunStore, type StepOutcome, type StepRecord, type StepRunner, type StepTask } from 'fastroai';
import { usageFieldsOf } from '../../src/durable/durable-run';
import { encodeValue } from '../../src/store/encode-value';
import { EMPTY_STEP_USAGE } from '../../src/usage/step-usage';

/** Counts the records each writer sent to the store. */
function countingStore(): { store: RunStore; writes: string[] } {
  const store = new MemoryRunStore();
  const writes: string[] = [];
  const recordSteps = store.recordSteps.bind(store);
  store.recordSteps = (runId, epoch, records) => {
    writes.push(...records.map((record) => `${record.workerId ?? 'caller'}:${record.stepId}`));
    return recordSteps(runId, epoch, records);
  };
  return { store, writes };
}

/** Runs each task in this process, records it as worker `w9` (1 s after the run began), and reports starts itself. */
function recordingRunner(reportStarts: boolean): StepRunner {
  return {
    reportsStepStarts: true,
    async runStep(task: StepTask): Promise<StepOutcome> {
      if (reportStarts) task.onAttempt?.({ type: 'step.started', attempt: 1, workerId: 'w9' });
      const outcome = await runStepTask(task);
      const durable = task.durable!;
      const record: StepRecord = {
        stepId: task.stepId,
        generation: durable.generation,
        status: outcome.status,
        output: encodeValue(outcome.output),
        usage: usageFieldsOf(EMPTY_STEP_USAGE),
        attempts: outcome.attempts,
        startedAt: 2_000_000_000_000,
        endedAt: 2_000_000_000_250,
        workerId: 'w9',
      };
      const [answer] = await durable.store.recordSteps(task.runId, durable.epoch, [record]);
      expect(answer).toBe('recorded');
      return { ...outcome, recorded: record };
    },
  };
}

const pipeline = () =>
  new Pipeline({
    name: 'seam',
    steps: { a: step(() => 1), b: step((ctx) => ctx.getDependency<number>('a') + 1) },
    dependencies: { b: ['a'] },
  });

describe('a runner that records its steps itself', () => {
  it('is not written again by the run, and its record gives the events, timings and the result their worker', async () => {
    const { store, writes } = countingStore();
    const events: PipelineEvent[] = [];
    const result = await pipeline().execute({}, undefined, { store, runner: recordingRunner(true), runId: 'seam-1', onEvent: (event) => events.push(event) });
    expect(result.output).toBe(2);
    expect(writes).toEqual(['w9:a', 'w9:b']);
    expect(events.filter((event) => event.type === 'step.started')).toEqual([
      { type: 'step.started', stepId: 'a', level: 0, attempt: 1, workerId: 'w9' },
      { type: 'step.started', stepId: 'b', level: 1, attempt: 1, workerId: 'w9' },
    ]);
    const completed = events.filter((event) => event.type === 'step.completed');
    expect(completed.map((event) => [event.stepId, event.workerId, event.durationMs])).toEqual([
      ['a', 'w9', 250],
      ['b', 'w9', 250],
    ]);
    expect(result.timings.a).toMatchObject({ workerId: 'w9', attempts: 1 });
    expect(result.timings.a.endMs - result.timings.a.startMs).toBe(250);
  });

  it('gets no step.started from the run at launch when it reports starts itself', async () => {
    const events: PipelineEvent[] = [];
    await pipeline().execute({}, undefined, { store: new MemoryRunStore(), runner: recordingRunner(false), runId: 'seam-2', onEvent: (event) => events.push(event) });
    expect(events.filter((event) => event.type === 'step.started')).toEqual([]);
  });

  it('restores the worker of each recorded step on resume (events and timings)', async () => {
    const store = new MemoryRunStore();
    await pipeline().execute({}, undefined, { store, runner: recordingRunner(true), runId: 'seam-3' });
    const events: PipelineEvent[] = [];
    const resumed = await pipeline().resume('seam-3', { store, onEvent: (event) => events.push(event) });
    expect(resumed.timings.b.workerId).toBe('w9');
    expect(events.filter((event) => event.type === 'step.completed').map((event) => [event.stepId, event.restored, event.workerId])).toEqual([
      ['a', true, 'w9'],
      ['b', true, 'w9'],
    ]);
  });

  it("hands a task its dependencies' outputs, built on first read only (a remote runner never reads them)", async () => {
    const tasks: StepTask[] = [];
    const runner: StepRunner = {
      runStep(task: StepTask): Promise<StepOutcome> {
        tasks.push(task);
        return runStepTask(task);
      },
    };
    const chain = new Pipeline({
      name: 'lazy-outputs',
      steps: { a: step(() => 'A'), b: step(() => 'B'), c: step((ctx) => `${String(ctx.getDependency('a'))}${String(ctx.getDependency('b'))}C`) },
      dependencies: { b: ['a'], c: ['b'] },
    });
    expect((await chain.execute({}, undefined, { runner })).output).toBe('ABC');
    const [, b, c] = tasks;
    // b never read its dependencies: still the accessor; c read them through its context.
    expect(typeof Object.getOwnPropertyDescriptor(b, 'dependencyOutputs')?.get).toBe('function');
    expect(Object.getOwnPropertyDescriptor(c, 'dependencyOutputs')?.value).toEqual({ a: 'A', b: 'B' });
    expect(b.dependencyOutputs).toEqual({ a: 'A' });
    expect({ ...b }.dependencyOutputs).toEqual({ a: 'A' });
  });
});
