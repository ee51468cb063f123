/**
 * Property test of durable runs (issue 9): random DAGs crashed at a random point, then resumed
 * by a new pipeline instance. In process, on `MemoryRunStore`, for speed.
 *
 * A crash is simulated by a store wrapper: once it has acknowledged the Nth `recordSteps`
 * batch (N = 0: right after `createRun`), every later call through it never settles, as if
 * the process had died with its requests in the air. The crashed run is abandoned (its steps
 * in flight may still finish, but nothing more reaches the store); the store's clock moves past
 * the lease, and a new `Pipeline` resumes the run from the underlying store.
 */
import { test } from '@fast-check/jest';
import fc from 'fast-check';
import { MemoryRunStore, Pipeline, PipelineConfig, step, type PipelineEvent, type PipelineResult, type RunStore, type StepContext } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { arbitraryDagScenario, dagFactsOf, type DagFacts, type DagScenario } from '../support/arbitrary-dag';
import { sleep } from '../support/async-helpers';

jest.setTimeout(60_000);

/** Every third step (by topological index) makes a paid agent call: usage must count it once. */
const isPaid = (index: number): boolean => index % 3 === 0;
const costOf = (index: number): number => 1_000 + index;

/** Per step id, how often its body ran in one pipeline instance. */
type Ledger = Record<string, number>;

interface StepValue {
  id: string;
  /** Derived from the dependencies' values: a wrong restored value changes every dependent's. */
  n: number;
  at: Date;
}

function buildPipeline(scenario: DagScenario, facts: DagFacts, ledger: Ledger): Pipeline {
  const steps: Record<string, ReturnType<typeof step>> = {};
  const dependencies: Record<string, string[]> = {};
  for (const index of scenario.declarationOrder) {
    const id = facts.ids[index];
    const planned = scenario.steps[index];
    const depIds = planned.dependencies.map((dep) => facts.ids[dep]);
    const agent = createMockAgent([{ output: id, costMicrocents: costOf(index), inputTokens: 1, outputTokens: 1 }]);
    steps[id] = step(async (ctx: StepContext) => {
      ledger[id] = (ledger[id] ?? 0) + 1;
      if (planned.mode === 'microtask') await null;
      if (planned.mode === 'macrotask') await new Promise((resolve) => setImmediate(resolve));
      if (planned.mode === 'timer') await sleep(planned.latencyMs, ctx.signal);
      if (isPaid(index)) await ctx.run(agent, id);
      let n = index + 1;
      for (const dep of depIds) n = (n * 31 + ctx.getDependency<StepValue>(dep).n) % 1_000_003;
      return { id, n, at: new Date(n) } satisfies StepValue;
    });
    dependencies[id] = depIds;
  }
  return new Pipeline({
    name: 'crash_dag',
    steps,
    dependencies,
    outputStep: facts.ids[scenario.outputStep],
    config: new PipelineConfig({ maxConcurrency: scenario.maxConcurrency }),
  });
}

/**
 * The store as a crashing process sees it: after `crashAfter` acknowledged batches, calls hang
 * until `die()` (the process is gone: its connections, and the calls in them, with it).
 */
function crashingStore(inner: RunStore, crashAfter: number): { store: RunStore; crashed(): boolean; batches(): number; die(): void } {
  let batches = 0;
  let crashed = false;
  let die: (error: Error) => void = () => undefined;
  const hang = new Promise<never>((_, reject) => (die = reject));
  hang.catch(() => undefined);
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (crashed) return hang;
        const answer: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (property === 'recordSteps') batches++;
        if ((property === 'recordSteps' || property === 'createRun') && batches >= crashAfter) crashed = true;
        return answer;
      };
    },
  });
  return { store, crashed: () => crashed, batches: () => batches, die: () => die(new Error('the crashed process is gone')) };
}

/** The comparable part of a result. */
function outcomeOf(result: PipelineResult<unknown>) {
  return { output: result.output, stepOutputs: result.stepOutputs, stoppedEarly: result.stoppedEarly, cost: result.usage?.totalCostMicrocents };
}

const scenarios = arbitraryDagScenario({ maxSteps: 30, failurePerMille: [0], incompletePerMille: [0], onError: ['fail'] });

describe('crash and resume, on random DAGs', () => {
  test.prop([scenarios, fc.nat()], { numRuns: 50 })(
    'a resume always reaches the uninterrupted result, and no step runs again once its record is written',
    async (scenario, crashRoll) => {
      const facts = dagFactsOf(scenario);

      // The uninterrupted run, through a store that never crashes: the reference, and how many batches a run writes.
      const counting = crashingStore(new MemoryRunStore(), Infinity);
      const reference = outcomeOf(await buildPipeline(scenario, facts, {}).execute({}, undefined, { store: counting.store }));
      const crashAfter = crashRoll % (counting.batches() + 1);

      let nowMs = Date.now();
      const inner = new MemoryRunStore({ now: () => nowMs });
      const crashing = crashingStore(inner, crashAfter);
      const crashedLedger: Ledger = {};
      const abandon = new AbortController();
      let settled = false;
      void buildPipeline(scenario, facts, crashedLedger)
        .execute({}, undefined, { store: crashing.store, runId: 'run', signal: abandon.signal })
        .then(
          () => (settled = true),
          () => (settled = true),
        );
      for (let waited = 0; !crashing.crashed() && !settled; waited++) {
        if (waited > 10_000) throw new Error(`the run neither crashed nor ended (crash after ${crashAfter} batches)`);
        await sleep(1);
      }

      // Nothing more reaches the store: what it holds now is what was written before the crash.
      const written = (await inner.getRun('run'))!.steps.map((record) => record.stepId);
      nowMs += 3_600_000; // past the dead owner's lease
      const resumedLedger: Ledger = {};
      const events: PipelineEvent[] = [];
      try {
        const resumed = await buildPipeline(scenario, facts, resumedLedger).resume('run', { store: inner, onEvent: (event) => events.push(event) });
        expect(outcomeOf(resumed)).toEqual(reference);
        // Every written step is restored (its dependencies were written before it), announced
        // right after pipeline.started in declaration order.
        const restored = scenario.declarationOrder.map((index) => facts.ids[index]).filter((id) => written.includes(id));
        expect(events.slice(0, 1 + restored.length).map((event) => (event.type === 'step.completed' && event.restored === true ? event.stepId : event.type))).toEqual([
          'pipeline.started',
          ...restored,
        ]);
      } finally {
        // The abandoned run, and the store calls it left in the air, end with the crashed process.
        abandon.abort();
        crashing.die();
      }

      for (const id of facts.ids) {
        if (written.includes(id)) {
          expect([id, crashedLedger[id], resumedLedger[id]]).toEqual([id, 1, undefined]);
        } else {
          expect([id, resumedLedger[id]]).toEqual([id, 1]);
        }
      }
      const stored = (await inner.getRun('run'))!;
      expect(stored.run.status).toBe('completed');
      expect(stored.steps.map((record) => `${record.stepId}@${record.generation}`).sort()).toEqual(facts.ids.map((id) => `${id}@1`).sort());
    },
  );
});
