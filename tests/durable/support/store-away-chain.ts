/**
 * The pipeline and checks the "store goes away" tests (issue 9) share across stores: a chain
 * a → b → c whose b waits on a gate (so the test can take the store away mid-run), a ledger of
 * how often each step ran, a run started until b is in flight, how it ended (never a hang), the
 * records a store holds, and a resume once the run's lease expired.
 */
import { Pipeline, step, type PipelineResult, type RunStore, type StepContext } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { deferred, sleep, within } from '../../support/async-helpers';

/** How often each step of the chain ran, by step id. */
export type StepLedger = Record<string, number>;

/** a → b → c; b waits for `gate` after its ledger line; a is a paid agent call (700 microcents). */
export function storeAwayChain(ledger: StepLedger, gate: Promise<void>, bStarted: () => void): Pipeline {
  const agent = createMockAgent([{ output: 'a', costMicrocents: 700 }]);
  const count = (id: string) => (ledger[id] = (ledger[id] ?? 0) + 1);
  return new Pipeline({
    name: 'store-goes-away',
    steps: {
      a: step(async (ctx: StepContext) => (count('a'), (await ctx.run(agent, 'go')).output)),
      b: step(async (ctx: StepContext) => {
        count('b');
        bStarted();
        await gate;
        return `${ctx.getDependency<string>('a')}b`;
      }),
      c: step((ctx: StepContext) => (count('c'), `${ctx.getDependency<string>('b')}c`)),
    },
    dependencies: { b: ['a'], c: ['b'] },
  });
}

/** The step records of `runId` as `stepId@generation:status`, read through a store `open` opens (and this closes). */
export async function recordsOf(open: () => RunStore, runId: string): Promise<string[]> {
  const store = open();
  try {
    return ((await store.getRun(runId))?.steps ?? []).map((record) => `${record.stepId}@${record.generation}:${record.status}`);
  } finally {
    await store.close();
  }
}

/** Waits until the run's lease has expired, then resumes it with a fresh store `open` opens (and this closes). */
export async function resumeOnceLeaseExpired(pipeline: Pipeline, open: () => RunStore, runId: string): Promise<PipelineResult<unknown>> {
  const store = open();
  try {
    const leaseUntil = (await store.getRun(runId))!.run.leaseUntil;
    while (Date.now() <= leaseUntil) await sleep(20);
    return await pipeline.resume(runId, { store });
  } finally {
    await store.close();
  }
}

/** Generous: only detects a hang (the stores' bounded retries take about a second). */
export const HANG_MS = 30_000;

/** How a run ended: its output, its rejection, or 'hung' (not settled within {@link HANG_MS}). */
export type Outcome = { resolved: unknown } | { rejected: unknown } | 'hung';

/** A run of the chain with b in flight (a recorded): its ledger, how it ends, and the gate that lets b finish. */
export interface RunInB {
  readonly runId: string;
  readonly ledger: StepLedger;
  /** Settles when the run does, or after {@link HANG_MS} with 'hung'. */
  readonly outcome: Promise<Outcome>;
  openGate(): void;
}

/** Executes the chain on `store` as `runId` with a 1 s lease; resolves once b started (a is recorded by then). */
export async function startRunInB(store: RunStore, runId: string): Promise<RunInB> {
  const ledger: StepLedger = {};
  const gate = deferred();
  const bStarted = deferred();
  const run = storeAwayChain(ledger, gate.promise, () => bStarted.resolve()).execute({}, undefined, { store, runId, leaseSeconds: 1 });
  const outcome = within<Outcome>(
    run.then((result) => ({ resolved: result.output }), (error: unknown) => ({ rejected: error })),
    HANG_MS,
    'hung',
  );
  await bStarted.promise;
  return { runId, ledger, outcome, openGate: () => gate.resolve() };
}
