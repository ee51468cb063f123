/**
 * A resume that changes the input (`resume(runId, { input })`) adopts the job of a step that
 * was waiting in the queue when the caller died: the job is brought to the resume's epoch, so
 * a worker that holds a view of the run from before the resume reads the run again and runs
 * the step with the new input.
 */
import { Pipeline, step, type StepContext } from 'fastroai';
import { stepJobId } from 'fastroai/distributed';
import { freezable } from './support/freezable-store';
import { resumedCallerSetup } from './support/resumed-caller-setup';
import { waitUntil } from './support/processes';
import { sleep } from '../support/async-helpers';

jest.setTimeout(60_000);

const executions: string[] = [];

function pipelineFor(label: string): Pipeline {
  return new Pipeline({
    name: 'stale-input',
    steps: {
      a: step((ctx: StepContext) => {
        executions.push(`${label} a`);
        return 'a';
      }),
      // Keeps the worker (concurrency 1) busy while b waits in the queue.
      s: step(async () => {
        executions.push(`${label} s`);
        await sleep(3_000);
        return 's';
      }),
      b: step((ctx: StepContext) => {
        executions.push(`${label} b`);
        return `b:${ctx.getInput<string>('topic')}`;
      }),
    },
    dependencies: { b: ['a'] },
    outputStep: 'b',
  });
}

it('runs a step adopted by a resume with the resumed (merged) input', async () => {
  const setup = resumedCallerSetup(pipelineFor('w1'));
  const { store, worker, first: deadCaller, resumer, queue } = setup;
  const caller = freezable(store);
  try {
    await worker.waitUntilReady();
    void pipelineFor('caller')
      .execute({ topic: 'lisbon' }, undefined, { store: caller.store, runner: deadCaller, runId: 'stale-input', leaseSeconds: 1 })
      .catch(() => undefined);
    // The worker ran a (it holds the run's view, epoch 1) and runs s; b's job waits.
    await waitUntil('s to start and b to wait', async () => executions.includes('w1 s') && (await queue.getJobState(stepJobId('stale-input', 'b', 1))) === 'waiting');
    caller.freeze(); // the caller dies: nothing more from it
    const leaseUntil = (await store.getRun('stale-input'))!.run.leaseUntil;
    await waitUntil("the dead caller's lease to expire", () => Date.now() > leaseUntil + 50);

    const result = await pipelineFor('resumer').resume('stale-input', { store, runner: resumer, input: { topic: 'porto' } });

    expect((await store.getRun('stale-input'))!.run.epoch).toBe(2);
    expect(executions.filter((line) => line.endsWith(' b'))).toEqual(['w1 b']); // b ran once, in the resume
    expect(result.output).toBe('b:porto');
  } finally {
    caller.bury();
    await setup.dispose();
  }
});
