/**
 * A caller that lost its lease (its renewal held past the lease's end: a pause, a partition)
 * and was replaced by a resume (epoch 2) stops (StoreUnavailableError: its renewal had no
 * answer before the lease ran out) and leaves the steps' jobs alone: they are the ones the
 * resume adopted (`runId-stepId-generation`), the new owner's now; neither removed from the
 * queue nor aborted on their workers.
 */
import { Pipeline, step, type RunStore, type StepContext } from 'fastroai';
import { stepJobId } from 'fastroai/distributed';
import { resumedCallerSetup } from './support/resumed-caller-setup';
import { waitUntil } from './support/processes';
import { deferred, sleep } from '../support/async-helpers';

jest.setTimeout(60_000);

const executions: string[] = [];

function pipelineFor(label: string): Pipeline {
  return new Pipeline({
    name: 'stale-owner',
    steps: {
      a: step(() => {
        executions.push(`${label} a`);
        return 'a';
      }),
      s: step(async (ctx: StepContext) => {
        executions.push(`${label} s`);
        try {
          await sleep(5_000, ctx.signal);
        } catch (aborted) {
          executions.push(`${label} s:aborted`);
          throw aborted;
        }
        return 's';
      }),
      b: step((ctx: StepContext) => {
        executions.push(`${label} b`);
        return `b(${ctx.getDependency<string>('a')})`;
      }),
    },
    dependencies: { b: ['a'] },
    outputStep: 'b',
  });
}

it("a stale owner's exit does not cancel or remove the jobs the resumed run adopted", async () => {
  const setup = resumedCallerSetup(pipelineFor('w1'));
  const { store, worker, first: staleRunner, resumer, queue } = setup;
  try {
    await worker.waitUntilReady();
    // The first caller's lease renewals hang once it is "paused", and answer when it wakes up.
    let paused = false;
    const wakeUp = deferred();
    const staleStore = new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== 'function') return value;
        if (key === 'renewLease') return (...args: unknown[]) => (paused ? wakeUp.promise : Promise.resolve()).then(() => (value as (...a: unknown[]) => unknown).apply(target, args));
        return value.bind(target);
      },
    }) as RunStore;
    const stale = pipelineFor('caller')
      .execute({}, undefined, { store: staleStore, runner: staleRunner, runId: 'stale-owner', leaseSeconds: 1 })
      .then(
        () => 'resolved',
        (error: Error) => error.name,
      );
    await waitUntil('s to run and b to wait', async () => executions.includes('w1 s') && (await queue.getJobState(stepJobId('stale-owner', 'b', 1))) === 'waiting');
    paused = true;
    const leaseUntil = (await store.getRun('stale-owner'))!.run.leaseUntil;
    await waitUntil("the paused caller's lease to expire", () => Date.now() > leaseUntil + 50);

    // Another process resumes the run: it adopts s (running) and b (waiting).
    const resumed = pipelineFor('resumer').resume('stale-owner', { store, runner: resumer });
    await waitUntil('the resume to claim the run', async () => (await store.getRun('stale-owner'))!.run.epoch === 2);
    await sleep(300);
    // The first caller stopped when its lease ran out with its renewal unanswered; it rejects
    // once that renewal answered (nothing it sent lands after it rejected).
    wakeUp.resolve();
    expect(await stale).toBe('StoreUnavailableError');

    const outcome = await resumed.then(
      (result) => ({ output: result.output as unknown }),
      (error: Error) => ({ error: error.message }),
    );
    await sleep(1_000);
    // The resumed run completes; s ran once (not aborted by the stale owner).
    expect({ ...outcome, s: executions.filter((line) => line.startsWith('w1 s')) }).toEqual({ output: 'b(a)', s: ['w1 s'] });
  } finally {
    await setup.dispose();
  }
});
