/**
 * Processes, not mocks (issue 9): a child process running a recorded run is killed with SIGKILL
 * while one step is in flight, then other processes resume the run from the same store. A
 * ledger file outside the store, written before each step's work, counts executions.
 *
 * Parameterized over the stores of ./support/store-specs.ts (a real SQLite file today).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { RunStore } from 'fastroai';
import { CRASH_PIPELINE_INPUT, CRASH_PIPELINE_STEPS, STEP_COSTS_MICROCENTS, crashPipeline, summarize, type RunSummary } from './support/crash-pipeline';
import type { ChildOptions } from './support/crash-resume-child';
import { openStoreSpec, STORES_UNDER_TEST, type StoreUnderTest } from './support/store-specs';
import { killAll, startChildProcess, waitUntil, type Child, type ChildMessage } from '../support/child-processes';

// Child processes compile TypeScript on start (several seconds on a loaded machine).
jest.setTimeout(120_000);

const CHILD_SCRIPT = join(__dirname, 'support', 'crash-resume-child.ts');

/** What a crash-resume child says. */
interface CrashChildMessage extends ChildMessage {
  type: 'ready' | 'result' | 'error';
  summary?: RunSummary;
  name?: string;
  code?: string;
  message?: string;
}

/** Starts a crash-resume child on the store of `spec` (killed by killAll after each test). */
function startChild(spec: string, options: ChildOptions): Child<CrashChildMessage> {
  return startChildProcess<CrashChildMessage>(CHILD_SCRIPT, [spec, JSON.stringify(options)], options.label);
}

/** How often each label executed each step, from the ledger file. */
function ledgerCounts(path: string): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  if (!existsSync(path)) return counts;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const [label, stepId] = line.split(' ');
    counts[label] ??= {};
    counts[label][stepId] = (counts[label][stepId] ?? 0) + 1;
  }
  return counts;
}

/** `{ a: 1, b: 1 }` for ['a', 'b']. */
function once(ids: readonly string[]): Record<string, number> {
  return Object.fromEntries(ids.map((id) => [id, 1]));
}

async function recordedStepIds(store: RunStore, runId: string): Promise<string[]> {
  return ((await store.getRun(runId))?.steps ?? []).map((record) => record.stepId).sort();
}

afterEach(killAll);

let reference: RunSummary;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'fastroai-ledger-'));
  // The uninterrupted run, in this process and without a store: what every resume must reach.
  reference = summarize(await crashPipeline({ ledger: join(scratch, 'reference.ledger'), label: 'reference' }).execute(CRASH_PIPELINE_INPUT));
  expect(ledgerCounts(join(scratch, 'reference.ledger'))).toEqual({ reference: once(CRASH_PIPELINE_STEPS) });
  expect(reference.totalCostMicrocents).toBe(321_000);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.each(Object.keys(STORES_UNDER_TEST))('a caller that crashes (%s store)', (kind) => {
  let store: StoreUnderTest;
  let observer: RunStore;
  let ledger: string;

  beforeEach(async () => {
    store = await STORES_UNDER_TEST[kind]();
    observer = openStoreSpec(store.spec);
    ledger = join(scratch, `${randomUUID()}.ledger`);
  });

  afterEach(async () => {
    // Children first (the file's own afterEach runs after this one): a child still alive after
    // a failure would hold the store (DROP SCHEMA waits), and the hook's timeout hide the failure.
    await killAll();
    await observer.close();
    await store.cleanup();
  });

  /**
   * Starts the first child on a new run with a 1 s lease, waits until `recorded` are in the
   * store and `block` has started (ledger), kills it with SIGKILL and waits for the lease to
   * expire. Resumers started before the kill have compiled meanwhile.
   */
  async function crashWhileInFlight(runId: string, block: string, recorded: string[]): Promise<void> {
    const first = startChild(store.spec, { mode: 'execute', runId, ledger, label: 'first', block, leaseSeconds: 1 });
    await waitUntil(`'${block}' in flight after ${recorded.join(', ')} were recorded`, async () => {
      if (first.process.exitCode !== null) throw new Error(`the first child exited with ${first.process.exitCode}`);
      return ledgerCounts(ledger).first?.[block] === 1 && (await recordedStepIds(observer, runId)).length >= recorded.length;
    });
    first.process.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // What the killed process left: exactly the steps that finished before the one in flight.
    expect(await recordedStepIds(observer, runId)).toEqual(recorded);
    expect((await observer.getRun(runId))?.run.status).toBe('running');
    const leaseUntil = (await observer.getRun(runId))!.run.leaseUntil;
    await waitUntil('the dead owner\'s lease to expire', () => Date.now() > leaseUntil + 20);
  }

  it.each([
    ['c', 'a sibling in the diamond', ['a', 'b']],
    ['e', 'a step of the chain', ['a', 'b', 'c', 'd']],
  ])(
    'a run killed while %s (%s) is in flight resumes in another process: recorded steps never run again, the in-flight one does',
    async (block, _where, recorded) => {
      const runId = `crash-${block}-${randomUUID()}`;
      const resumer = startChild(store.spec, { mode: 'resume', runId, ledger, label: 'resumer', waitForGo: true });
      await crashWhileInFlight(runId, block, recorded);

      await resumer.message('ready');
      resumer.process.send('go');
      const answer = await resumer.message('result').catch(async (error: unknown) => {
        throw new Error(`the resume failed: ${JSON.stringify(await resumer.message('error').catch(() => error))}`);
      });

      const rest = CRASH_PIPELINE_STEPS.filter((id) => !recorded.includes(id));
      expect(ledgerCounts(ledger)).toEqual({ first: once([...recorded, block]), resumer: once(rest) });
      const { runId: resumedRunId, ...resumed } = answer.summary!;
      const { runId: _referenceRunId, ...uninterrupted } = reference;
      expect(resumedRunId).toBe(runId);
      expect(resumed).toEqual(uninterrupted);
      // Usage counts each step once: the killed process's records plus the resume's.
      expect(resumed.totalCostMicrocents).toBe(321_000);
      expect(resumed.stepCostsMicrocents).toEqual(STEP_COSTS_MICROCENTS);
      expect(await resumer.exited).toEqual({ code: 0, signal: null });

      const stored = await observer.getRun(runId);
      expect(stored?.run.status).toBe('completed');
      expect(stored?.steps.map((record) => `${record.stepId}@${record.generation}:${record.status}`).sort()).toEqual(
        CRASH_PIPELINE_STEPS.map((id) => `${id}@1:completed`),
      );
    },
  );

  it('two processes resume the crashed run at once: one wins, the other gets RunLockedError and executes nothing', async () => {
    const runId = `race-${randomUUID()}`;
    // The winner holds f (and the lease) until the loser has answered: the loser's claim always meets a live lease.
    const labels = ['left', 'right'];
    const resumers = labels.map((label) => startChild(store.spec, { mode: 'resume', runId, ledger, label, waitForGo: true, hold: 'f' }));
    await crashWhileInFlight(runId, 'c', ['a', 'b']);

    await Promise.all(resumers.map((resumer) => resumer.message('ready')));
    for (const resumer of resumers) resumer.process.send('go');
    const loser = await Promise.race(resumers.map((resumer, index) => resumer.message('error').then(() => index)));
    const winner = 1 - loser;
    const refused = await resumers[loser].message('error');
    expect(refused).toMatchObject({ type: 'error', name: 'RunLockedError', code: 'fastroai:run-locked' });
    expect(refused.message).toContain(runId);
    expect(await resumers[loser].exited).toEqual({ code: 0, signal: null });

    await waitUntil(`${labels[winner]} to reach f`, () => ledgerCounts(ledger)[labels[winner]]?.f === 1);
    resumers[winner].process.send('finish');
    const won = await resumers[winner].message('result');
    expect(ledgerCounts(ledger)).toEqual({ first: once(['a', 'b', 'c']), [labels[winner]]: once(['c', 'd', 'e', 'f']) });
    const { runId: _resumedRunId, ...resumed } = won.summary!;
    const { runId: _referenceRunId, ...uninterrupted } = reference;
    expect(resumed).toEqual(uninterrupted);
    expect(await resumers[winner].exited).toEqual({ code: 0, signal: null });
    expect((await observer.getRun(runId))?.steps).toHaveLength(CRASH_PIPELINE_STEPS.length);
  });
});
