import type { RunRecord, StepRecord } from 'fastroai';
import { buildRunView } from '../../src/inspector/run-view';
import { fakeRun } from './support/fake-runs';
import { supersededRecord } from '../../src/store/superseded-record';

const fingerprint = JSON.stringify({ steps: { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }, output: 'd' });

function record(stepId: string, startedAt: number, endedAt: number, fields: Partial<StepRecord> = {}): StepRecord {
  const usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, inputAudioTokens: 0, outputAudioTokens: 0,
    cacheAudioReadTokens: 0, requestCount: 0, toolCallCount: 0, costMicrocents: 0, processingTimeMs: 0, model: undefined };
  return { stepId, generation: 1, status: 'completed', output: '1', usage, attempts: 1, startedAt, endedAt, ...fields };
}

describe('buildRunView', () => {
  it('draws the graph from the fingerprint and marks the critical path through the dependency that finished last', () => {
    const run: RunRecord = fakeRun({ runId: 'r', fingerprint });
    const view = buildRunView(run, [record('a', 1000, 1010), record('b', 1010, 1050), record('c', 1010, 1020), record('d', 1050, 1060)]);
    expect(view.steps.map((step) => [step.id, step.level, step.state, step.critical])).toEqual([
      ['a', 0, 'completed', true],
      ['b', 1, 'completed', true],
      ['c', 1, 'completed', false],
      ['d', 2, 'completed', true],
    ]);
    expect(view.steps[3].timing).toEqual({ startMs: 50, endMs: 60, attempts: 1 });
    expect(view.originMs).toBe(1000);
  });

  it('infers the states of a running run: running when every dependency completed, pending otherwise', () => {
    const run = fakeRun({ runId: 'r', fingerprint, status: 'running', updatedAt: 900 });
    const view = buildRunView(run, [record('a', 1000, 1010), record('c', 1010, 1020)]);
    expect(view.steps.map((step) => step.state)).toEqual(['completed', 'running', 'completed', 'pending']);
  });

  it('shows a resumed run’s INCOMPLETE step as running again, and a finished run’s unreached steps as skipped', () => {
    const incomplete = record('b', 1010, 1020, { status: 'incomplete' });
    const resumed = buildRunView(fakeRun({ runId: 'r', fingerprint, status: 'running', updatedAt: 5000 }), [record('a', 1000, 1010), incomplete]);
    expect(resumed.steps.map((step) => step.state)).toEqual(['completed', 'running', 'running', 'pending']);
    const stopped = buildRunView(fakeRun({ runId: 'r', fingerprint, status: 'stopped', updatedAt: 1020 }), [record('a', 1000, 1010), incomplete]);
    expect(stopped.steps.map((step) => step.state)).toEqual(['completed', 'incomplete', 'skipped', 'skipped']);
  });

  it("shows a step superseded by a resume (its next generation runs) as running, not failed, and its dependents as pending", () => {
    const superseded = supersededRecord('b', 1, 'r-b-1', 3000);
    const view = buildRunView(fakeRun({ runId: 'r', fingerprint, status: 'running', updatedAt: 2000 }), [record('a', 1000, 1010), record('c', 1010, 1020), superseded]);
    expect(view.steps.map((step) => step.state)).toEqual(['completed', 'running', 'completed', 'pending']);
    // A run that failed before the step's next generation ran: not run, rather than failed.
    const failed = buildRunView(fakeRun({ runId: 'r', fingerprint, status: 'failed', updatedAt: 4000 }), [record('a', 1000, 1010), record('c', 1010, 1020), superseded]);
    expect(failed.steps.map((step) => step.state)).toEqual(['completed', 'skipped', 'completed', 'skipped']);
  });

  it('shows the latest generation of a step, counts its records, and sums the latest costs', () => {
    const usage = (costMicrocents: number) => ({ ...record('x', 0, 0).usage, costMicrocents });
    const view = buildRunView(fakeRun({ runId: 'r', fingerprint: JSON.stringify({ steps: { a: [] }, output: 'a' }) }), [
      record('a', 1000, 1010, { status: 'failed', usage: usage(5) }),
      record('a', 2000, 2010, { generation: 2, usage: usage(7) }),
    ]);
    expect(view.steps[0]).toMatchObject({ state: 'completed', generations: 2, record: { generation: 2 } });
    expect(view.stepsCostMicrocents).toBe(7);
  });

  it('keeps steps without edges when the fingerprint holds no graph, and any record status to a known state', () => {
    const view = buildRunView(fakeRun({ runId: 'r', fingerprint: 'not json' }), [record('x', 1, 2), record('__proto__', 1, 2), record('y', 1, 2, { status: '<b>' as never })]);
    expect(view.hasEdges).toBe(false);
    expect(view.steps.map((step) => [step.id, step.state])).toEqual([
      ['x', 'completed'],
      ['y', 'failed'],
    ]);
  });
});
