/**
 * Property-based suite of the engine: random DAGs (up to 200 steps) with random failures
 * (some throwing non-Errors), random INCOMPLETE stops, random latencies (sync, microtask,
 * macrotask, 1–5 ms timers), both `onError` modes and random `maxConcurrency`, run through
 * `execute()` and `run()`. Every expectation is derived from the generated graph and from what
 * the steps themselves recorded while running; nothing is hard-coded.
 *
 * Time is observed as one sequence counter shared by the steps (start, end) and the event
 * subscriber, so "before" and "after" below are exact, not wall-clock guesses.
 */
import { test } from '@fast-check/jest';
import {
  type BaseStep,
  ConversationState,
  ConversationStatus,
  IN_PROCESS_RUNNER,
  Pipeline,
  PipelineConfig,
  PipelineValidationError,
  StepExecutionError,
  step,
  type PipelineEvent,
  type PipelineResult,
  type StepContext,
  type StepRunner,
} from 'fastroai';
import { arbitraryDagScenario, dagFactsOf, type DagFacts, type DagScenario, type ThrownKind } from '../support/arbitrary-dag';

/** Generous: a run takes about 10 ms on average; this covers a busy machine and shrinking. */
const TIMEOUT_MS = 120_000;
/** At least 1,000 executed DAGs per run of the suite: 350 + 300 + 350 (plus 300 only built, for the levels). */
const RUNS = { continue: 350, fail: 300, stream: 350, levels: 300 };

/* ------------------------------------------------------------------------------------------ */
/* What the steps record                                                                       */
/* ------------------------------------------------------------------------------------------ */

/** What each step returns (or throws), fresh per run so identity checks mean something. */
function plannedValues(scenario: DagScenario, facts: DagFacts): unknown[] {
  return scenario.steps.map((planned, index) => {
    const id = facts.ids[index];
    if (planned.behaviour === 'incomplete') {
      return new ConversationState({ status: ConversationStatus.INCOMPLETE, data: id });
    }
    if (planned.behaviour === 'throw') return thrownValue(planned.thrown, id);
    return Object.freeze({ producedBy: id });
  });
}

function thrownValue(kind: ThrownKind, id: string): unknown {
  switch (kind) {
    case 'error':
      return new Error(`${id} failed`);
    case 'typeError':
      return new TypeError(`${id} broke`);
    case 'string':
      return `${id} failed (a string)`;
    case 'emptyString':
      return '';
    case 'undefined':
      return undefined;
    case 'null':
      return null;
    case 'number':
      return 42;
    case 'object':
      return { reason: `${id} failed (a plain object)` };
  }
}

/**
 * The steps' own record of a run: when each started and ended (on a shared sequence counter),
 * how many ran at once, whether a late step saw its signal aborted, and every violation seen
 * from inside a step (started twice, started before a dependency ended, saw the wrong outputs).
 */
class RunTrace {
  seq = 0;
  running = 0;
  maxRunning = 0;
  readonly starts: Int32Array;
  readonly startSeq: Int32Array;
  readonly endSeq: Int32Array;
  readonly abortedAtEnd: Uint8Array;
  readonly problems: string[] = [];

  constructor(
    readonly scenario: DagScenario,
    readonly facts: DagFacts,
    readonly values: unknown[],
  ) {
    const size = facts.size;
    this.starts = new Int32Array(size);
    this.startSeq = new Int32Array(size).fill(-1);
    this.endSeq = new Int32Array(size).fill(-1);
    this.abortedAtEnd = new Uint8Array(size);
  }

  tick(): number {
    return ++this.seq;
  }

  problem(message: string): void {
    if (this.problems.length < 20) this.problems.push(message);
  }

  begin(index: number, ctx: StepContext<unknown>): void {
    const id = this.facts.ids[index];
    if (++this.starts[index] > 1) this.problem(`${id} started ${this.starts[index]} times`);
    this.startSeq[index] = this.tick();
    this.maxRunning = Math.max(this.maxRunning, ++this.running);
    if (ctx.stepId !== id) this.problem(`${id} ran with ctx.stepId ${ctx.stepId}`);
    for (const dep of this.scenario.steps[index].dependencies) {
      const depId = this.facts.ids[dep];
      if (this.endSeq[dep] < 0) this.problem(`${id} started before its dependency ${depId} finished`);
      else if (this.scenario.steps[dep].behaviour !== 'succeed') {
        this.problem(`${id} started although its dependency ${depId} ${this.scenario.steps[dep].behaviour === 'throw' ? 'failed' : 'returned INCOMPLETE'}`);
      }
      if (ctx.getDependency(depId) !== this.values[dep]) this.problem(`${id}: getDependency('${depId}') is not ${depId}'s output`);
    }
    this.checkVisibility(index, ctx, 'at its start');
  }

  end(index: number, ctx: StepContext<unknown>, async: boolean): void {
    this.endSeq[index] = this.tick();
    this.running--;
    if (async) this.abortedAtEnd[index] = ctx.signal.aborted ? 1 : 0;
    // After a wait, outputs that appeared meanwhile must stay invisible unless they are dependencies.
    // (Only for timer steps: a full check costs a run more than the steps themselves.)
    if (this.scenario.steps[index].mode === 'timer') this.checkVisibility(index, ctx, 'at its end');
  }

  /** `getDependencyOrNone` over every id: defined, and the right output, exactly for the transitive dependencies. */
  private checkVisibility(index: number, ctx: StepContext<unknown>, when: string): void {
    const { ids, ancestors } = this.facts;
    const mine = ancestors[index];
    for (let other = 0; other < ids.length; other++) {
      const seen = ctx.getDependencyOrNone(ids[other]);
      const expected = mine[other] === 1 ? this.values[other] : undefined;
      if (seen !== expected) {
        this.problem(
          `${ids[index]} ${when} ${expected === undefined ? 'sees' : 'does not see'} the output of ${ids[other]}` +
            ` (${mine[other] === 1 ? 'a' : 'not a'} transitive dependency)`,
        );
      }
    }
  }

  /** Resolves once no step of this run is running (steps outlive a run that failed). */
  async idle(): Promise<void> {
    const deadline = Date.now() + 2_000;
    while (this.running > 0) {
      if (Date.now() > deadline) {
        this.problem(`${this.running} step(s) still running 2 s after the run settled`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
}

function buildPipeline(scenario: DagScenario, facts: DagFacts, trace: RunTrace): Pipeline {
  const { ids, levels } = facts;
  const steps: Record<string, BaseStep> = {};
  const dependencies: Record<string, string[]> = {};
  for (const index of scenario.declarationOrder) {
    const id = ids[index];
    steps[id] = makeStep(scenario, trace, index);
    dependencies[id] = scenario.steps[index].dependencies.map((dep) => ids[dep]);
  }
  const singleTerminal = levels[levels.length - 1].length === 1;
  const outputStep = scenario.explicitOutputStep || !singleTerminal ? ids[scenario.outputStep] : undefined;
  return new Pipeline({
    name: 'random_dag',
    steps,
    dependencies,
    outputStep,
    config: new PipelineConfig({ onError: scenario.onError, maxConcurrency: scenario.maxConcurrency }),
  });
}

function makeStep(scenario: DagScenario, trace: RunTrace, index: number): BaseStep {
  const planned = scenario.steps[index];
  const value = trace.values[index];
  const finish = (ctx: StepContext<unknown>, async: boolean): unknown => {
    trace.end(index, ctx, async);
    if (planned.behaviour === 'throw') throw value;
    return value;
  };
  switch (planned.mode) {
    case 'sync':
      return step((ctx) => {
        trace.begin(index, ctx);
        return finish(ctx, false);
      });
    case 'microtask':
      return step(async (ctx) => {
        trace.begin(index, ctx);
        await null;
        return finish(ctx, true);
      });
    case 'macrotask':
      return step(async (ctx) => {
        trace.begin(index, ctx);
        await new Promise((resolve) => setImmediate(resolve));
        return finish(ctx, true);
      });
    case 'timer':
      return step(async (ctx) => {
        trace.begin(index, ctx);
        await new Promise((resolve) => setTimeout(resolve, planned.latencyMs));
        return finish(ctx, true);
      });
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Running a scenario                                                                          */
/* ------------------------------------------------------------------------------------------ */

interface Observed {
  scenario: DagScenario;
  facts: DagFacts;
  trace: RunTrace;
  pipeline: Pipeline;
  result?: PipelineResult<unknown>;
  error?: unknown;
  failed: boolean;
  /** Sequence number at which the caller saw the run settle (resolve, reject, complete, error). */
  settledSeq: number;
  /** Steps still running at that moment. */
  runningAtSettle: number;
  events: Array<{ event: PipelineEvent; seq: number }>;
}

function prepare(scenario: DagScenario) {
  const facts = dagFactsOf(scenario);
  const trace = new RunTrace(scenario, facts, plannedValues(scenario, facts));
  return { facts, trace, pipeline: buildPipeline(scenario, facts, trace) };
}

async function executeScenario(scenario: DagScenario, runner?: StepRunner): Promise<Observed> {
  const { facts, trace, pipeline } = prepare(scenario);
  const observed: Observed = { scenario, facts, trace, pipeline, failed: false, settledSeq: 0, runningAtSettle: 0, events: [] };
  try {
    observed.result = await pipeline.execute({}, undefined, runner === undefined ? undefined : { runner });
  } catch (error) {
    observed.failed = true;
    observed.error = error;
  }
  observed.settledSeq = trace.tick();
  observed.runningAtSettle = trace.running;
  await trace.idle();
  return observed;
}

async function streamScenario(scenario: DagScenario, runner?: StepRunner): Promise<Observed> {
  const { facts, trace, pipeline } = prepare(scenario);
  const observed: Observed = { scenario, facts, trace, pipeline, failed: false, settledSeq: 0, runningAtSettle: 0, events: [] };
  await new Promise<void>((resolve) => {
    pipeline.run({}, undefined, runner === undefined ? undefined : { runner }).subscribe({
      next: (event) => observed.events.push({ event, seq: trace.tick() }),
      error: (error: unknown) => {
        observed.failed = true;
        observed.error = error;
        resolve();
      },
      complete: () => resolve(),
    });
  });
  observed.settledSeq = trace.tick();
  observed.runningAtSettle = trace.running;
  const last = observed.events[observed.events.length - 1]?.event;
  if (!observed.failed && last?.type === 'pipeline.completed') observed.result = last.result;
  await trace.idle();
  return observed;
}

/* ------------------------------------------------------------------------------------------ */
/* Properties                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/**
 * Collects violated expectations as readable lines. Loops over hundreds of steps and events
 * check through here (a jest `expect` per item costs more than the run itself); each property
 * ends with one `expect(findings.list).toEqual([])`, which prints them all.
 */
class Findings {
  readonly list: string[] = [];

  check(ok: boolean, message: () => string): void {
    if (!ok && this.list.length < 30) this.list.push(message());
  }

  /** Checks that two lists are equal, naming them. */
  same(actual: readonly unknown[], expected: readonly unknown[], what: string): void {
    const equal = actual.length === expected.length && actual.every((value, i) => Object.is(value, expected[i]));
    this.check(equal, () => `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

function indices(size: number): number[] {
  return Array.from({ length: size }, (_, index) => index);
}

function inDeclarationOrder(facts: DagFacts, steps: number[]): string[] {
  return [...steps].sort((a, b) => facts.declarationIndex[a] - facts.declarationIndex[b]).map((index) => facts.ids[index]);
}

function sorted(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

/** What the steps' own record says happened. */
function digest(observed: Observed) {
  const { scenario, facts, trace } = observed;
  const ran = indices(facts.size).filter((index) => trace.startSeq[index] >= 0);
  const failedSteps = ran.filter((index) => scenario.steps[index].behaviour === 'throw');
  const succeeded = ran.filter((index) => scenario.steps[index].behaviour !== 'throw');
  const stoppers = ran.filter((index) => scenario.steps[index].behaviour === 'incomplete');
  const byEnd = (a: number, b: number) => trace.endSeq[a] - trace.endSeq[b];
  const firstFailure: number | undefined = [...failedSteps].sort(byEnd)[0];
  const firstStop: number | undefined = [...stoppers].sort(byEnd)[0];
  // Skipped: exactly the steps with a failed transitive dependency.
  const hasFailedAncestor = new Uint8Array(facts.size);
  for (const failed of failedSteps) for (const dependent of facts.descendants[failed]) hasFailedAncestor[dependent] = 1;
  const expectedSkipped = indices(facts.size).filter((index) => hasFailedAncestor[index] === 1);
  return { ran, failedSteps, succeeded, stoppers, firstFailure, firstStop, expectedSkipped };
}

/** Seen from inside the steps, whatever the outcome: at most once, after its dependencies, exact visibility, the cap. */
function checkStepInvariants(observed: Observed, findings: Findings): void {
  const { scenario, trace } = observed;
  for (const problem of trace.problems) findings.check(false, () => problem);
  const cap = scenario.maxConcurrency ?? Infinity;
  findings.check(trace.maxRunning <= cap, () => `${trace.maxRunning} steps ran at once, maxConcurrency is ${cap}`);
}

/** `pipeline.levels`: a valid layering, equal to the one derived from the graph, each level in declaration order. */
function checkLevels(scenario: DagScenario, facts: DagFacts, levels: string[][], findings: Findings): void {
  findings.check(levels.length === facts.levels.length, () => `${levels.length} levels, expected ${facts.levels.length}`);
  levels.forEach((level, k) => findings.same(level, facts.levels[k] ?? [], `level ${k}`));
  // And valid on its own terms: every step exactly once, level = 1 + max level of its dependencies.
  const levelOfId = new Map<string, number>();
  levels.forEach((level, k) => {
    findings.check(level.length > 0, () => `level ${k} is empty`);
    for (const id of level) {
      findings.check(!levelOfId.has(id), () => `${id} is in levels ${levelOfId.get(id)} and ${k}`);
      levelOfId.set(id, k);
    }
  });
  findings.same(sorted(levelOfId.keys()), sorted(facts.ids), 'steps in the levels');
  scenario.steps.forEach((planned, index) => {
    const depLevels = planned.dependencies.map((dep) => levelOfId.get(facts.ids[dep]) ?? NaN);
    const expected = depLevels.length === 0 ? 0 : 1 + Math.max(...depLevels);
    findings.check(levelOfId.get(facts.ids[index]) === expected, () => `${facts.ids[index]} is in level ${levelOfId.get(facts.ids[index])}, expected ${expected}`);
  });
}

/** A step's failure as the run reports it: a `StepExecutionError` for that step, keeping what was thrown. */
function checkStepError(error: unknown, id: string, thrown: unknown, findings: Findings, where: string): void {
  if (!(error instanceof StepExecutionError) || !StepExecutionError.isInstance(error)) {
    findings.check(false, () => `${where}: ${String(error)} is not a StepExecutionError`);
    return;
  }
  const prefix = `Step '${id}' failed: `;
  findings.check(error.stepId === id, () => `${where}: stepId is ${error.stepId}, expected ${id}`);
  findings.check(error.message.startsWith(prefix) && error.message.length > prefix.length, () => `${where}: message ${JSON.stringify(error.message)}`);
  if (thrown instanceof Error) {
    findings.check(error.originalError === thrown, () => `${where}: originalError is not the Error ${id} threw`);
  } else {
    findings.check(
      error.originalError instanceof Error && error.originalError.message.length > 0,
      () => `${where}: originalError of a thrown ${String(thrown)} is ${String(error.originalError)}`,
    );
    findings.check(
      Object.is(error.cause, thrown) || Object.is(error.originalError?.cause, thrown),
      () => `${where}: the thrown value ${String(thrown)} is kept neither as cause nor as originalError.cause`,
    );
  }
}

/** A run that resolved: its result agrees with itself, with the graph and with what the steps did. */
function checkResolvedRun(observed: Observed, findings: Findings): void {
  const { scenario, facts, trace, pipeline } = observed;
  const result = observed.result!;
  const { ids } = facts;
  const { ran, failedSteps, succeeded, stoppers, firstStop, expectedSkipped } = digest(observed);

  // Running steps finish before the run resolves, and keep their outputs.
  findings.check(observed.runningAtSettle === 0, () => `${observed.runningAtSettle} step(s) still running when the run resolved`);
  findings.same(sorted(Object.keys(result.stepOutputs)), sorted(succeeded.map((index) => ids[index])), 'stepOutputs keys vs steps that returned');
  for (const index of succeeded) {
    findings.check(result.stepOutputs[ids[index]] === trace.values[index], () => `stepOutputs['${ids[index]}'] is not what it returned`);
  }
  findings.same(sorted(Object.keys(result.errors)), sorted(failedSteps.map((index) => ids[index])), 'errors keys vs steps that threw');
  for (const index of failedSteps) checkStepError(result.errors[ids[index]], ids[index], trace.values[index], findings, `errors['${ids[index]}']`);
  // Skipped: exactly the steps with a failed transitive dependency, none of which ran (so the three are disjoint).
  findings.same(result.skipped, inDeclarationOrder(facts, expectedSkipped), 'skipped vs steps with a failed transitive dependency');
  for (const index of expectedSkipped) findings.check(trace.startSeq[index] < 0, () => `${ids[index]} ran although a dependency failed`);
  findings.check(result.usage === undefined, () => 'usage is set although no step called ctx.run');

  // Timings: one per step that ran, inside the run, starting after each dependency's end.
  findings.same(sorted(Object.keys(result.timings)), sorted(ran.map((index) => ids[index])), 'timings keys vs steps that ran');
  for (const index of ran) {
    const timing = result.timings[ids[index]];
    if (timing === undefined) continue;
    findings.check(timing.attempts === 1, () => `timings['${ids[index]}'].attempts is ${timing.attempts}`);
    findings.check(0 <= timing.startMs && timing.startMs <= timing.endMs, () => `timings['${ids[index]}'] is ${JSON.stringify(timing)}`);
    for (const dep of scenario.steps[index].dependencies) {
      const depTiming = result.timings[ids[dep]];
      findings.check(
        depTiming !== undefined && timing.startMs >= depTiming.endMs,
        () => `${ids[index]} starts at ${timing.startMs} ms, before its dependency ${ids[dep]} ends (${JSON.stringify(depTiming)})`,
      );
    }
  }

  const outputIndex = ids.indexOf(pipeline.outputStep);
  findings.check(result.stoppedEarly === stoppers.length > 0, () => `stoppedEarly is ${result.stoppedEarly} with ${stoppers.length} INCOMPLETE step(s) run`);
  if (firstStop === undefined) {
    // Without a stop every step ran or was skipped; under 'fail' any failure would have rejected.
    if (scenario.onError === 'fail') findings.same(failedSteps, [], "steps that failed in a run that resolved under 'fail'");
    const notRun = indices(facts.size).filter((index) => trace.startSeq[index] < 0 && !expectedSkipped.includes(index));
    findings.same(notRun.map((index) => ids[index]), [], 'steps neither run nor skipped, without a stop');
    findings.check(result.conversationState === undefined, () => 'conversationState is set although no step returned one');
    const expectedOutput = succeeded.includes(outputIndex) ? trace.values[outputIndex] : undefined;
    findings.check(result.output === expectedOutput, () => `output is not ${pipeline.outputStep}'s output (${JSON.stringify(result.output)})`);
  } else {
    // The first INCOMPLETE stops the run; under 'fail' only failures after it are tolerated (first event wins).
    findings.check(result.output === undefined, () => 'output is set although the run stopped early');
    findings.check(result.conversationState === trace.values[firstStop], () => `conversationState is not the one ${ids[firstStop]} returned first`);
    if (scenario.onError === 'fail') {
      for (const index of failedSteps) {
        findings.check(trace.endSeq[index] > trace.endSeq[firstStop], () => `${ids[index]} failed before the stop, yet the run resolved under 'fail'`);
      }
    }
    // Nothing new starts once the stop is seen: a step that started after the stopper returned
    // was startable before (all its dependencies had finished earlier).
    for (const index of ran) {
      if (trace.startSeq[index] < trace.endSeq[firstStop]) continue;
      for (const dep of scenario.steps[index].dependencies) {
        findings.check(trace.endSeq[dep] < trace.endSeq[firstStop], () => `${ids[index]} started after the stop by ${ids[firstStop]}, once ${ids[dep]} finished`);
      }
    }
  }
}

/** A run that rejected (onError 'fail'): with the first failure, unless a stop came first; nothing started after. */
function checkRejectedRun(observed: Observed, findings: Findings): void {
  const { scenario, facts, trace } = observed;
  const { ids } = facts;
  const { firstFailure, firstStop } = digest(observed);
  findings.check(scenario.onError === 'fail', () => `the run rejected under onError '${scenario.onError}': ${String(observed.error)}`);
  if (firstFailure === undefined) {
    findings.check(false, () => `the run rejected although no step failed: ${String(observed.error)}`);
    return;
  }
  checkStepError(observed.error, ids[firstFailure], trace.values[firstFailure], findings, 'the rejection');
  if (firstStop !== undefined) {
    findings.check(trace.endSeq[firstStop] > trace.endSeq[firstFailure], () => `the run rejected although ${ids[firstStop]} stopped it before ${ids[firstFailure]} failed`);
  }
  for (let index = 0; index < facts.size; index++) {
    // Nothing starts after the failure...
    findings.check(trace.startSeq[index] < observed.settledSeq, () => `${ids[index]} started after the run rejected`);
    // ...and the steps still running then had their signal aborted.
    if (trace.endSeq[index] > observed.settledSeq) {
      findings.check(trace.abortedAtEnd[index] === 1, () => `${ids[index]} was running when the run failed, but its signal was not aborted`);
    }
  }
}

/** The event stream agrees with the graph, with what the steps did, and with the result it ends with. */
function checkEvents(observed: Observed, findings: Findings): void {
  const { scenario, facts, trace, pipeline, events } = observed;
  const { ids } = facts;
  const indexOf = new Map(ids.map((id, index) => [id, index]));
  const cap = scenario.maxConcurrency ?? Infinity;

  const first = events[0]?.event;
  if (first?.type !== 'pipeline.started') {
    findings.check(false, () => `the first event is ${first?.type}, not pipeline.started`);
    return;
  }
  findings.check(first.pipeline === pipeline.name, () => `pipeline.started names ${first.pipeline}`);
  checkLevels(scenario, facts, first.levels, findings);

  const startedAt = new Int32Array(facts.size).fill(-1);
  const completedAt = new Int32Array(facts.size).fill(-1);
  const settledAt = new Int32Array(facts.size).fill(-1);
  const skipped = new Uint8Array(facts.size);
  let running = 0;
  let stoppedAt = -1;
  let nextLevel = 0;

  events.forEach(({ event, seq }, position) => {
    switch (event.type) {
      case 'pipeline.started':
        findings.check(position === 0, () => `pipeline.started again at position ${position}`);
        break;
      case 'step.started': {
        const index = indexOf.get(event.stepId)!;
        findings.check(startedAt[index] < 0 && event.attempt === 1, () => `step.started ${event.stepId} again, attempt ${event.attempt}`);
        findings.check(event.level === facts.levelOf[index], () => `step.started ${event.stepId} has level ${event.level}`);
        findings.check(skipped[index] === 0, () => `${event.stepId} started after step.skipped`);
        findings.check(stoppedAt < 0, () => `${event.stepId} started after pipeline.stopped`);
        for (const dep of scenario.steps[index].dependencies) {
          findings.check(completedAt[dep] >= 0, () => `${event.stepId} started before step.completed of its dependency ${ids[dep]}`);
        }
        // Ready steps start in declaration order: no earlier-declared step was ready and left waiting.
        for (let other = 0; other < facts.size; other++) {
          if (facts.declarationIndex[other] >= facts.declarationIndex[index] || startedAt[other] >= 0 || skipped[other] === 1) continue;
          if (scenario.steps[other].dependencies.every((dep) => completedAt[dep] >= 0)) {
            findings.check(false, () => `${event.stepId} started while ${ids[other]}, declared before it, was ready and waiting`);
          }
        }
        startedAt[index] = seq;
        findings.check(trace.startSeq[index] > seq, () => `${event.stepId} ran before its step.started`);
        running++;
        findings.check(running <= cap, () => `${running} steps running by the events, maxConcurrency is ${cap}`);
        break;
      }
      case 'step.completed': {
        const index = indexOf.get(event.stepId)!;
        findings.check(startedAt[index] >= 0 && settledAt[index] < 0, () => `step.completed ${event.stepId} without step.started, or twice`);
        findings.check(trace.endSeq[index] >= 0 && trace.endSeq[index] < seq, () => `step.completed ${event.stepId} before it returned`);
        findings.check(event.output === trace.values[index], () => `step.completed ${event.stepId} carries another output`);
        findings.check(event.level === facts.levelOf[index], () => `step.completed ${event.stepId} has level ${event.level}`);
        findings.check(event.durationMs >= 0, () => `step.completed ${event.stepId} has durationMs ${event.durationMs}`);
        completedAt[index] = settledAt[index] = seq;
        running--;
        break;
      }
      case 'step.failed': {
        const index = indexOf.get(event.stepId)!;
        findings.check(startedAt[index] >= 0 && settledAt[index] < 0, () => `step.failed ${event.stepId} without step.started, or twice`);
        findings.check(trace.endSeq[index] >= 0 && trace.endSeq[index] < seq, () => `step.failed ${event.stepId} before it threw`);
        findings.check(event.level === facts.levelOf[index], () => `step.failed ${event.stepId} has level ${event.level}`);
        checkStepError(event.error, event.stepId, trace.values[index], findings, `step.failed ${event.stepId}`);
        settledAt[index] = seq;
        running--;
        break;
      }
      case 'step.skipped': {
        const index = indexOf.get(event.stepId)!;
        findings.check(startedAt[index] < 0 && settledAt[index] < 0, () => `step.skipped ${event.stepId} after it started, or twice`);
        findings.check(typeof event.reason === 'string' && event.reason.length > 0, () => `step.skipped ${event.stepId} has no reason`);
        skipped[index] = 1;
        settledAt[index] = seq;
        break;
      }
      case 'step.retrying':
        findings.check(false, () => `step.retrying ${event.stepId}, but retries is 0`);
        break;
      case 'level.completed': {
        // In increasing order, and only once every step of levels 0..k settled.
        findings.check(event.level === nextLevel, () => `level.completed ${event.level}, expected ${nextLevel}`);
        nextLevel = event.level + 1;
        findings.same(event.stepIds, facts.levels[event.level] ?? [], `level.completed ${event.level} stepIds`);
        for (let index = 0; index < facts.size; index++) {
          if (facts.levelOf[index] <= event.level) {
            findings.check(settledAt[index] >= 0, () => `level.completed ${event.level} before ${ids[index]} (level ${facts.levelOf[index]}) settled`);
          }
        }
        break;
      }
      case 'pipeline.stopped': {
        findings.check(stoppedAt < 0, () => 'pipeline.stopped twice');
        stoppedAt = seq;
        // Right after the step.completed of the step that returned INCOMPLETE.
        const previous = events[position - 1].event;
        findings.check(
          previous.type === 'step.completed' && scenario.steps[indexOf.get(previous.stepId)!].behaviour === 'incomplete' && event.conversationState === previous.output,
          () => `pipeline.stopped does not follow the step.completed of an INCOMPLETE step (it follows ${previous.type})`,
        );
        break;
      }
      case 'pipeline.completed':
        findings.check(position === events.length - 1, () => `pipeline.completed at ${position} of ${events.length} events`);
        break;
    }
  });

  // Every step that ran announced itself; nothing ran unannounced.
  for (let index = 0; index < facts.size; index++) {
    findings.check(startedAt[index] >= 0 === trace.startSeq[index] >= 0, () => `${ids[index]} ran: ${trace.startSeq[index] >= 0}, step.started: ${startedAt[index] >= 0}`);
  }

  if (observed.failed) {
    findings.check(!events.some(({ event }) => event.type === 'pipeline.completed'), () => 'pipeline.completed in a run that errored');
    return;
  }
  const last = events[events.length - 1].event;
  if (last.type !== 'pipeline.completed') {
    findings.check(false, () => `the stream completed after ${last.type}, not pipeline.completed`);
    return;
  }
  const result = last.result;
  findings.check(result.runId === first.runId, () => `pipeline.completed has runId ${result.runId}, pipeline.started ${first.runId}`);
  const stepIdsOf = (type: PipelineEvent['type']) =>
    sorted(events.flatMap(({ event }) => (event.type === type && 'stepId' in event ? [event.stepId] : [])));
  // Each step.completed is a stepOutputs entry, each step.failed an errors entry, each step.skipped a skipped one.
  findings.same(stepIdsOf('step.completed'), sorted(Object.keys(result.stepOutputs)), 'step.completed vs stepOutputs');
  findings.same(stepIdsOf('step.failed'), sorted(Object.keys(result.errors)), 'step.failed vs errors');
  findings.same(stepIdsOf('step.skipped'), sorted(result.skipped), 'step.skipped vs skipped');
  for (const { event } of events) {
    if (event.type === 'step.completed') {
      findings.check(result.stepOutputs[event.stepId] === event.output, () => `step.completed ${event.stepId} output is not stepOutputs'`);
      const timing = result.timings[event.stepId];
      findings.check(
        timing !== undefined && Math.abs(event.durationMs - (timing.endMs - timing.startMs)) < 1e-6,
        () => `step.completed ${event.stepId} durationMs ${event.durationMs} vs timings ${JSON.stringify(timing)}`,
      );
    }
    if (event.type === 'step.failed') findings.check(result.errors[event.stepId] === event.error, () => `step.failed ${event.stepId} error is not errors'`);
    if (event.type === 'pipeline.stopped') {
      findings.check(result.conversationState === event.conversationState, () => 'pipeline.stopped conversationState is not the result\'s');
    }
  }
  findings.check(stoppedAt >= 0 === result.stoppedEarly, () => `pipeline.stopped emitted: ${stoppedAt >= 0}, stoppedEarly: ${result.stoppedEarly}`);
  // Levels reported: exactly the longest prefix of levels whose steps all settled (all of them without a stop).
  let settledPrefix = 0;
  while (settledPrefix < facts.levels.length && facts.levels[settledPrefix].every((id) => settledAt[indexOf.get(id)!] >= 0)) settledPrefix++;
  findings.check(nextLevel === settledPrefix, () => `${nextLevel} level.completed events, ${settledPrefix} levels settled`);
  if (!result.stoppedEarly) findings.check(nextLevel === facts.levels.length, () => `${nextLevel} level.completed events of ${facts.levels.length} levels`);
}

function checkRun(observed: Observed, findings: Findings): void {
  checkStepInvariants(observed, findings);
  if (observed.failed) checkRejectedRun(observed, findings);
  else if (observed.result === undefined) findings.check(false, () => 'the run neither failed nor produced a result');
  else checkResolvedRun(observed, findings);
}

/* ------------------------------------------------------------------------------------------ */

describe('Pipeline on random DAGs (property-based)', () => {
  test.prop([arbitraryDagScenario()], { numRuns: RUNS.levels })(
    'lays out levels as a valid layering in declaration order, and defaults outputStep to the single terminal step',
    (scenario) => {
      const facts = dagFactsOf(scenario);
      const { pipeline } = prepare(scenario);
      const findings = new Findings();
      checkLevels(scenario, facts, pipeline.levels, findings);
      const terminal = facts.levels[facts.levels.length - 1];
      const expectedOutputStep = scenario.explicitOutputStep || terminal.length > 1 ? facts.ids[scenario.outputStep] : terminal[0];
      findings.check(pipeline.outputStep === expectedOutputStep, () => `outputStep is ${pipeline.outputStep}, expected ${expectedOutputStep}`);
      expect(findings.list).toEqual([]);
      if (terminal.length > 1) {
        // Without outputStep, several terminal steps are refused, named in declaration order.
        const construct = () =>
          new Pipeline({
            name: 'random_dag',
            steps: Object.fromEntries(scenario.declarationOrder.map((index) => [facts.ids[index], step(() => index)])),
            dependencies: Object.fromEntries(scenario.steps.map((planned, index) => [facts.ids[index], planned.dependencies.map((dep) => facts.ids[dep])])),
          });
        expect(construct).toThrow(PipelineValidationError);
        expect(construct).toThrow(`Multiple terminal steps: [${terminal.map((id) => `'${id}'`).join(', ')}]. Specify outputStep explicitly.`);
      }
    },
  );

  test.prop([arbitraryDagScenario({ onError: ['continue'] })], { numRuns: RUNS.continue })(
    "execute() under onError 'continue': every step runs at most once, after its dependencies, seeing exactly its transitive dependencies; stepOutputs, errors and skipped partition the steps",
    async (scenario) => {
      const observed = await executeScenario(scenario);
      const findings = new Findings();
      findings.check(!observed.failed, () => `the run rejected under 'continue': ${String(observed.error)}`);
      checkRun(observed, findings);
      expect(findings.list).toEqual([]);
    },
    TIMEOUT_MS,
  );

  // More INCOMPLETE steps here, so that failures racing a stop ("first event wins") come up often.
  test.prop([arbitraryDagScenario({ onError: ['fail'], incompletePerMille: [0, 0, 5, 20, 50] })], { numRuns: RUNS.fail })(
    "execute() under onError 'fail': rejects with the first failure unless an INCOMPLETE stop came first, and starts nothing after it",
    async (scenario) => {
      const findings = new Findings();
      checkRun(await executeScenario(scenario), findings);
      expect(findings.list).toEqual([]);
    },
    TIMEOUT_MS,
  );

  test.prop([arbitraryDagScenario()], { numRuns: RUNS.stream })(
    'run() emits an event stream consistent with the steps, the graph and the result',
    async (scenario) => {
      const observed = await streamScenario(scenario);
      const findings = new Findings();
      checkRun(observed, findings);
      checkEvents(observed, findings);
      expect(findings.list).toEqual([]);
    },
    TIMEOUT_MS,
  );
});

// The same properties with every step handed to a StepRunner as plain data (runStepTask in this
// process): the seam a queue-backed runner plugs into must not change what a run does.
describe('Pipeline on random DAGs, steps run by a StepRunner (property-based)', () => {
  test.prop([arbitraryDagScenario({ onError: ['continue'] })], { numRuns: RUNS.continue })(
    "execute() under onError 'continue' through IN_PROCESS_RUNNER",
    async (scenario) => {
      const observed = await executeScenario(scenario, IN_PROCESS_RUNNER);
      const findings = new Findings();
      findings.check(!observed.failed, () => `the run rejected under 'continue': ${String(observed.error)}`);
      checkRun(observed, findings);
      expect(findings.list).toEqual([]);
    },
    TIMEOUT_MS,
  );

  test.prop([arbitraryDagScenario({ onError: ['fail'], incompletePerMille: [0, 0, 5, 20, 50] })], { numRuns: RUNS.fail })(
    "execute() under onError 'fail' through IN_PROCESS_RUNNER",
    async (scenario) => {
      const findings = new Findings();
      checkRun(await executeScenario(scenario, IN_PROCESS_RUNNER), findings);
      expect(findings.list).toEqual([]);
    },
    TIMEOUT_MS,
  );

  test.prop([arbitraryDagScenario()], { numRuns: RUNS.stream })(
    'run() through IN_PROCESS_RUNNER emits a consistent event stream',
    async (scenario) => {
      const observed = await streamScenario(scenario, IN_PROCESS_RUNNER);
      const findings = new Findings();
      checkRun(observed, findings);
      checkEvents(observed, findings);
      expect(findings.list).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
