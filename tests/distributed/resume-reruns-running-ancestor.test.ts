/**
 * A resume that reruns a step (`rerun`) while a dependent's job from the dead caller is still in
 * the queue: that job read the step's older output, so the resume does not adopt what it does or
 * did. One still running is cancelled; either way the dependent runs again, on the new output, at
 * the next generation (its job id and record key are the old job's).
 */
import { Pipeline, step, type StepContext } from 'fastroai';
import { stepJobId } from 'fastroai/distributed';
import { freezable } from './support/freezable-store';
import { resumedCallerSetup } from './support/resumed-caller-setup';
import { waitUntil } from './support/processes';
import { sleep } from '../support/async-helpers';

jest.setTimeout(60_000);

let executions: string[];
let aRuns: number;

beforeEach(() => {
  executions = [];
  aRuns = 0;
});

/** a → b → c: a's output counts its executions; b's first execution takes `firstBMs` (honouring its signal). */
function pipelineFor(label: string, firstBMs: number): Pipeline {
  return new Pipeline({
    name: 'rerun-ancestor',
    steps: {
      a: step(() => {
        executions.push(`${label} a`);
        return `a${++aRuns}`;
      }),
      b: step(async (ctx: StepContext) => {
        const first = !executions.some((line) => line.endsWith(' b'));
        executions.push(`${label} b`);
        if (first) {
          try {
            await sleep(firstBMs, ctx.signal);
          } catch (aborted) {
            executions.push(`${label} b:aborted`);
            throw aborted;
          }
        }
        return `b:${ctx.getDependency<string>('a')}`;
      }),
      // Reads b at the generation b ran at: the one it moved to, not the old job's.
      c: step((ctx: StepContext) => `c(${ctx.getDependency<string>('b')})`),
    },
    dependencies: { b: ['a'], c: ['b'] },
    outputStep: 'c',
  });
}

/** Runs the pipeline until b's job runs on the worker, then the caller dies and its lease expires. */
async function callerDiesWhileBRuns(setup: ReturnType<typeof resumedCallerSetup>, firstBMs: number): Promise<() => void> {
  const { store, worker, first: deadCaller, queue } = setup;
  const caller = freezable(store);
  await worker.waitUntilReady();
  void pipelineFor('caller', firstBMs)
    .execute({}, undefined, { store: caller.store, runner: deadCaller, runId: 'rerun-a', leaseSeconds: 1 })
    .catch(() => undefined);
  await waitUntil('b to run', async () => executions.includes('w1 b') && (await queue.getJobState(stepJobId('rerun-a', 'b', 1))) === 'active');
  caller.freeze();
  const leaseUntil = (await store.getRun('rerun-a'))!.run.leaseUntil;
  await waitUntil("the dead caller's lease to expire", () => Date.now() > leaseUntil + 50);
  return () => caller.bury();
}

it("cancels a dependent's job still running on the step's older output, and runs the dependent at the next generation on the new one", async () => {
  const setup = resumedCallerSetup(pipelineFor('w1', 30_000), 2);
  let bury = () => undefined as void;
  try {
    bury = await callerDiesWhileBRuns(setup, 30_000);

    const result = await pipelineFor('resumer', 30_000).resume('rerun-a', { store: setup.store, runner: setup.resumer, rerun: ['a'] });

    expect(result.output).toBe('c(b:a2)');
    // The old job was stopped (not waited out for 30 s); b ran again, at generation 2. b's
    // generation 1 is taken by a failed record saying so: the old job could record nothing there.
    expect(executions.slice(0, 3)).toEqual(['w1 a', 'w1 b', 'w1 a']);
    expect(executions.slice(3).sort()).toEqual(['w1 b', 'w1 b:aborted']);
    const steps = (await setup.store.getRun('rerun-a'))!.steps;
    expect(steps.map((record) => `${record.stepId}@${record.generation}:${record.status}`)).toEqual(['a@1:completed', 'a@2:completed', 'b@1:failed', 'b@2:completed', 'c@1:completed']);
    expect(steps[2].error?.message).toMatch(/^superseded: a resume of the run reran a step whose output job '.*' read$/);
  } finally {
    bury();
    await setup.dispose();
  }
});

it("does not adopt a dependent's record made from the step's older output: the dependent runs again at the next generation", async () => {
  // One job at a time: b's old job ends (and records) before a's new generation runs.
  const setup = resumedCallerSetup(pipelineFor('w1', 2_000), 1);
  let bury = () => undefined as void;
  try {
    bury = await callerDiesWhileBRuns(setup, 2_000);

    const result = await pipelineFor('resumer', 2_000).resume('rerun-a', { store: setup.store, runner: setup.resumer, rerun: ['a'] });

    expect(result.output).toBe('c(b:a2)');
    expect(executions).toEqual(['w1 a', 'w1 b', 'w1 a', 'w1 b']);
    const stored = (await setup.store.getRun('rerun-a'))!;
    expect(stored.steps.map((record) => `${record.stepId}@${record.generation}`)).toEqual(['a@1', 'b@1', 'a@2', 'b@2', 'c@1']);
    // A later resume restores b from its latest generation, the one made from a's.
    const again = await pipelineFor('resumer', 2_000).resume('rerun-a', { store: setup.store, runner: setup.resumer, input: {} });
    expect(again.output).toBe('c(b:a2)');
  } finally {
    bury();
    await setup.dispose();
  }
});
