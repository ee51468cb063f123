import type { StepConfig } from '../config/step-config';
import type { RunBudget } from '../context/run-budget';
import { toError } from '../errors/step-execution-error';
import type { CancelScope } from '../executor/cancel-scope';
import type { StepRunScope } from '../executor/step-run-scope';
import { isAncestor } from '../graph/is-ancestor';
import type { StepGraph } from '../graph/step-graph';
import { StepState } from '../scheduler/dependency-scheduler';
import type { StepLike } from '../steps/base-step';
import type { Tracer } from '../tracing/tracer';
import type { StepUsage } from '../usage/step-usage';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import type { RunStepTable } from './run-step-table';
import { SyncEndTrampoline } from './sync-end-trampoline';
import { waitForCalls } from '../context/step-context';

const GO_ON = (): boolean => true;
const STOP = (): boolean => false;

/** What a step scope reads from its run (once, when it is made), and where the run's steps end. */
export interface ScopedRun {
  readonly definition: PipelineDefinition;
  readonly table: RunStepTable;
  readonly scheduler: { readonly state: Uint8Array };
  readonly emit: ((event: PipelineEvent) => void) | undefined;
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly runBudget: RunBudget;
  readonly cancelScope: CancelScope;
  /** Set when the run records its steps: a step's end then awaits its record before it admits anything. */
  readonly durable: object | undefined;
  /** Steps running now (a step waiting for its record or a retry included). */
  runningSteps(): number;
  stepCompleted(index: number, output: unknown, usage: StepUsage | undefined, attempts: number): void;
  stepFailed(index: number, error: unknown, usage: StepUsage | undefined, attempts: number): void;
}

/**
 * What the executor and a step's context see of a run ({@link StepRunScope}): its steps and
 * their configs, the outputs visible to a step, and where attempts are reported (as events).
 * A step's end goes to the run's protocol (`PipelineRun`); a synchronous one a microtask
 * later, through the {@link SyncEndTrampoline} (but see `attemptEndedSoon`). One per run:
 * nothing here is made per step.
 */
export class PipelineStepScope implements StepRunScope {
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly runBudget: RunBudget;
  readonly cancelScope: CancelScope;
  /** Set when the run failed or was cancelled: no retry starts after that. */
  isAborted = false;
  /** Set when a failure drains the run: running steps finish their attempt, no retry starts. */
  retriesStopped = false;
  /** The `ctx.run` calls running now (each as a promise that resolves once it settled); made on the first call. */
  private calls: Set<Promise<void>> | undefined;
  /** The run's step instances, by index (set once the run resolved them). */
  steps: readonly StepLike[] = [];
  private readonly run: ScopedRun;
  private readonly graph: StepGraph;
  private readonly configs: readonly StepConfig[];
  private readonly table: RunStepTable;
  private readonly state: Uint8Array;
  private readonly emit: ((event: PipelineEvent) => void) | undefined;
  private readonly syncEnds: SyncEndTrampoline;
  /** See {@link attemptEndedSoon}. */
  private readonly completesAtOnce: boolean;

  constructor(run: ScopedRun) {
    this.inputs = run.inputs;
    this.deps = run.deps;
    this.tracer = run.tracer;
    this.runBudget = run.runBudget;
    this.cancelScope = run.cancelScope;
    this.run = run;
    this.graph = run.definition.graph;
    this.configs = run.definition.configs;
    this.table = run.table;
    this.state = run.scheduler.state;
    this.emit = run.emit;
    this.syncEnds = new SyncEndTrampoline(run, this, run.table);
    this.completesAtOnce = run.durable !== undefined;
  }

  stepAt(index: number): StepLike {
    return this.steps[index];
  }

  configAt(index: number): StepConfig {
    return this.configs[index];
  }

  stepIdAt(index: number): string {
    return this.graph.ids[index];
  }

  isVisibleTo(stepId: string, index: number): boolean {
    const other = this.graph.indexOf.get(stepId);
    return other !== undefined && this.state[other] === StepState.Completed && isAncestor(this.graph, other, index);
  }

  outputOf(stepId: string): unknown {
    return this.table.outputs[this.graph.indexOf.get(stepId)!];
  }

  visibleIds(index: number): string[] {
    return this.graph.ids.filter((id) => this.isVisibleTo(id, index));
  }

  attemptStarted(index: number, attempt: number): void {
    this.emit?.({ type: 'step.started', stepId: this.graph.ids[index], level: this.graph.levelOf[index], attempt });
  }

  attemptRetrying(index: number, attempt: number, error: unknown, delaySeconds: number): void {
    this.emit?.({ type: 'step.retrying', stepId: this.graph.ids[index], attempt, error: toError(error), delaySeconds });
  }

  callRetrying(index: number, attempt: number, error: unknown, delaySeconds: number): void {
    this.emit?.({ type: 'call.retrying', stepId: this.graph.ids[index], attempt, error: toError(error), delaySeconds });
  }

  usageChanged(index: number, usage: StepUsage): void {
    (this.table.liveUsages ??= [])[index] = usage;
  }

  callStarted(settled: Promise<void>): void {
    const calls = (this.calls ??= new Set());
    calls.add(settled);
    settled.then(() => calls.delete(settled));
  }

  /**
   * Resolves once the `ctx.run` calls running now settled (at most `ABANDONED_CALLS_WAIT_MS`):
   * a run that ends with an error waits for the calls it aborted, so that what they were billed
   * is in its `runUsage`. Undefined when none runs.
   */
  callsSettled(): Promise<void> | undefined {
    const calls = this.calls;
    if (calls === undefined || calls.size === 0) return undefined;
    return waitForCalls(calls);
  }

  waitBeforeRetry(ms: number): Promise<boolean> {
    return this.cancelScope.sleep(ms).then(GO_ON, STOP);
  }

  /**
   * A synchronous end goes through the trampoline (a microtask later), except a completion in
   * a recorded run while no other step runs (a chain's step): that only queues the step's
   * record, whose answer admits its dependents a microtask later anyway, so nothing recurses,
   * and no other end can have come first (what happens first wins: a sibling's failure queued
   * before it must still be seen first); the trampoline's hop would be a second one.
   */
  attemptEndedSoon(index: number, ok: boolean, outcome: unknown, usage: StepUsage | undefined, attempt: number): void {
    if (ok && this.completesAtOnce && this.run.runningSteps() === 1) this.run.stepCompleted(index, outcome, usage, attempt);
    else this.syncEnds.push(index, ok, outcome, usage, attempt);
  }

  stepCompleted(index: number, output: unknown, usage: StepUsage | undefined, attempts: number): void {
    this.run.stepCompleted(index, output, usage, attempts);
  }

  stepFailed(index: number, error: unknown, usage: StepUsage | undefined, attempts: number): void {
    this.run.stepFailed(index, error, usage, attempts);
  }
}
