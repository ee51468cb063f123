/**
 * A step already recorded is not executed (nor paid for) again by the worker that takes its job
 * over: w1 records `b` and dies before completing the job (a forced close between the store write
 * and BullMQ's completion); the job stalls and goes to w2, which ran `a` of the same run earlier
 * and holds a view of the run from before `b`'s record. A job taken again asks the store.
 */
import { randomUUID } from 'node:crypto';
import { MemoryRunStore, Pipeline, step, type RunStore, type StepContext, type StepRecord } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { QueueRunner, createStepWorker, type StepWorker } from 'fastroai/distributed';
import type { Worker } from 'bullmq';
import { deleteKeys } from './support/distributed-fixture';
import { waitUntil } from './support/processes';
import { sleep } from '../support/async-helpers';

jest.setTimeout(60_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };
const executions: string[] = [];

/** The same graph for every process; `label` names who executed a step. */
function pipelineFor(label: string): Pipeline {
  const agent = createMockAgent([() => ({ output: 'paid', costMicrocents: 5_000, inputTokens: 1, outputTokens: 1 })]);
  return new Pipeline({
    name: 'stale-view',
    steps: {
      a: step((ctx: StepContext) => {
        executions.push(`${label} a`);
        return `a:${ctx.getInput<string>('topic')}`;
      }),
      // Keeps w2 (concurrency 1) busy while b is taken by w1.
      s: step(async () => {
        executions.push(`${label} s`);
        await sleep(4_000);
        return 's';
      }),
      b: step(async (ctx: StepContext) => {
        executions.push(`${label} b`);
        await ctx.run(agent, 'bill me');
        return `b(${ctx.getDependency<string>('a')})`;
      }),
    },
    dependencies: { b: ['a'] },
    outputStep: 'b',
  });
}

/** `store` with some methods replaced (the rest bound to it, so internal readers still work). */
function withOverrides(store: MemoryRunStore, overrides: Partial<RunStore>): RunStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (Object.hasOwn(overrides, key)) return (overrides as Record<string | symbol, unknown>)[key];
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as RunStore;
}

const bullOf = (worker: StepWorker) => (worker as unknown as { worker: Worker }).worker;

it('does not execute (nor bill) a step again when its job is retaken after the step was recorded', async () => {
  const prefix = `fastroai-test-${randomUUID()}`;
  const store = new MemoryRunStore();
  const timing = { lockDuration: 2_000, stalledInterval: 500 };
  const w2 = createStepWorker({ pipelines: [pipelineFor('w2')], store, connection: CONNECTION, prefix, name: 'w2', ...timing });
  w2.on('error', () => undefined);
  let w1: StepWorker | undefined;
  const runner = new QueueRunner({ connection: CONNECTION, prefix, reconcileIntervalMs: 500 });
  try {
    await w2.waitUntilReady();
    const run = pipelineFor('caller').execute({ topic: 'lisbon' }, undefined, { store, runner, runId: 'stale-view' });
    // w2 ran a (it now holds a cached view of the run) and is busy with s: b waits for a worker.
    await waitUntil('s to start on w2', () => executions.includes('w2 s'));

    // w1 takes b, records it, and dies before its job completes on the queue.
    const crashingStore = withOverrides(store, {
      recordSteps: async (runId: string, epoch: number, records: StepRecord[]) => {
        await store.recordSteps(runId, epoch, records);
        void bullOf(w1!).close(true); // the process is gone: no completion, no lock renewal, no wake-up
        return new Promise<never>(() => undefined);
      },
    });
    w1 = createStepWorker({ pipelines: [pipelineFor('w1')], store: crashingStore, connection: CONNECTION, prefix, name: 'w1', ...timing });
    w1.on('error', () => undefined);
    await w1.waitUntilReady();

    const result = await run;
    expect(result.output).toBe('b(a:lisbon)');
    const stored = (await store.getRun('stale-view'))!;
    expect(stored.steps.find((record) => record.stepId === 'b')!.workerId).toBe('w1');
    // b was recorded (by w1) before w2 took its stalled job: it must not run again, nor be
    // billed again (one call of 5,000 microcents).
    await sleep(500);
    expect({ bExecutions: executions.filter((line) => line.endsWith(' b')), runCost: (await store.getRun('stale-view'))!.run.costMicrocents }).toEqual({
      bExecutions: ['w1 b'],
      runCost: 5_000,
    });
  } finally {
    await runner.close();
    await w2.close();
    for (const key of ['publisher', 'subscriber']) (w1 as unknown as Record<string, { disconnect(): void }> | undefined)?.[key].disconnect();
    await deleteKeys(CONNECTION.port, `${prefix}:*`);
  }
});
