import { systemClock, type Clock } from '../clock/clock';
import type { StepConfig } from '../config/step-config';
import type { RunBudget } from '../context/run-budget';
import { isIncomplete } from '../conversation/conversation-state';
import type { StepLike } from '../steps/base-step';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import type { Tracer } from '../tracing/tracer';
import type { StepUsage } from '../usage/step-usage';
import type { RunStore, StepRecord } from '../store/run-store';
import { CancelScope } from './cancel-scope';
import { executeStep, retryOrFail } from './execute-step';
import type { StepRunScope } from './step-run-scope';

/**
 * One step to run, as plain data: everything its context needs, so a process that has only
 * the data (a queue worker that read it from the store) runs the step exactly as a run would.
 */
export interface StepTask {
  runId: string;
  stepId: string;
  step: StepLike;
  /** The step's resolved config (timeouts, retries, budget). */
  config: StepConfig;
  inputs: Record<string, unknown>;
  /** The outputs the step may read with `getDependency`: its transitive dependencies'. */
  dependencyOutputs: Record<string, unknown>;
  deps: unknown;
  tracer?: Tracer;
  /** Aborts the step (the run failed or was cancelled). */
  signal?: AbortSignal;
  /**
   * Aborts when the run starts no more steps but lets running ones finish (a failure drains it,
   * a step stopped it with INCOMPLETE). A runner that queues tasks may then take back a task that
   * has not started anywhere and end it `withdrawn` (see StepOutcome.status); a running one goes on.
   */
  stopStarting?: AbortSignal;
  /** The run's spent total and budget, for `runCostBudget`. */
  runBudget?: RunBudget;
  /**
   * Attempts after the first (`attempt` ≥ 2), their retries, and retried model calls; from a
   * runner that reports starts itself (`StepRunner.reportsStepStarts`), the first attempt too.
   * `workerId` names the process that runs the step (a remote runner's worker).
   */
  onAttempt?: (
    event:
      | { type: 'step.started'; attempt: number; workerId?: string }
      | { type: 'step.retrying' | 'call.retrying'; attempt: number; error: unknown; delaySeconds: number },
  ) => void;
  /**
   * Where the step's timeouts, retry backoffs and outcome times come from: the run's clock for
   * an in-process runner; not sent to another process. @default the system clock
   */
  clock?: Clock;
  /** Where the run is recorded (runs with a store): what a remote runner needs to find the run and key the step's record. */
  durable?: StepTaskDurability;
}

/** A recorded run's facts about one step task: enough for a worker to read and record it in the store. */
export interface StepTaskDurability {
  store: RunStore;
  pipeline: string;
  /** The run's graph fingerprint (`fingerprintOf`): a worker with another graph refuses the task. */
  fingerprint: string;
  /** The generation the step's record takes in this run. */
  generation: number;
  /**
   * The generations of the step's ancestors (the outputs it may read) in this run, those other
   * than 1, by id: absent when there are none (a run's first epoch). A worker reads exactly these.
   */
  ancestorGenerations?: Record<string, number>;
  /** The run's epoch as this caller holds it. */
  epoch: number;
}

/** How a step task ended. Times are epoch ms (wall clock). */
export interface StepOutcome {
  /**
   * `withdrawn`: the runner took the step back before it started anywhere, once the task's
   * `stopStarting` aborted: it did not run (nothing billed, nothing recorded), and the run counts
   * it as never started.
   */
  status: 'completed' | 'failed' | 'incomplete' | 'withdrawn';
  /** The output (a ConversationState for `incomplete`); undefined when it failed. */
  output?: unknown;
  /** What its last attempt threw, when it failed. */
  error?: unknown;
  /** What its attempts were billed (failed ones included); undefined when it made no `ctx.run` call. */
  usage: StepUsage | undefined;
  attempts: number;
  startedAt: number;
  endedAt: number;
  /**
   * Set when the runner recorded the step in the run's store itself (a queue worker): the
   * record as the store holds it. The run then writes nothing for the step, and takes its
   * times and worker from the record.
   */
  recorded?: StepRecord;
  /**
   * Set when the runner ran the step at a later generation than `task.durable.generation`: a
   * queue runner whose job id was held by the job of an earlier caller of the run, made from
   * other outputs of the step's dependencies. The run records the step at this generation, and
   * its dependents read this one.
   */
  generation?: number;
}

/** The outcome of a task the executor ran (never `withdrawn`: that is a queueing runner's). */
export interface ExecutedStepOutcome extends StepOutcome {
  status: 'completed' | 'failed' | 'incomplete';
}

/**
 * Runs one step task to its end with the engine's executor (timeouts, retries, budgets,
 * hooks, spans), data in, outcome out. This is the executor contract a remote runner uses;
 * a run in one process drives the same executor through its own scope.
 */
export function runStepTask(task: StepTask): Promise<ExecutedStepOutcome> {
  return runStepTaskIn(task, CancelScope.root(task.signal, task.clock ?? systemClock));
}

/**
 * {@link runStepTask} under a cancel scope the caller holds and aborts itself (`scope.abort`):
 * a queue worker's job, without an AbortController and a listener per job. `task.signal` is
 * not read; `scope` is disposed when the task ends.
 */
export function runStepTaskIn(task: StepTask, scope: CancelScope): Promise<ExecutedStepOutcome> {
  return new Promise<ExecutedStepOutcome>((resolve) => {
    executeStep(new StepTaskScope(task, scope, resolve), 0);
  });
}

/** The executor's view of a single step task. */
class StepTaskScope implements StepRunScope {
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly runBudget: RunBudget | undefined;
  /** Follows the task's signal (or the caller's scope): its attempts' scopes and retry waits are children. */
  readonly cancelScope: CancelScope;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private ended = false;

  constructor(
    private readonly task: StepTask,
    cancelScope: CancelScope,
    private readonly resolve: (outcome: ExecutedStepOutcome) => void,
  ) {
    this.inputs = task.inputs;
    this.deps = task.deps;
    this.tracer = task.tracer ?? NOOP_TRACER;
    this.runBudget = task.runBudget;
    this.clock = task.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.cancelScope = cancelScope;
  }

  get isAborted(): boolean {
    return this.cancelScope.isAborted;
  }

  stepIdAt(): string {
    return this.task.stepId;
  }

  isVisibleTo(stepId: string): boolean {
    return Object.hasOwn(this.task.dependencyOutputs, stepId);
  }

  outputOf(stepId: string): unknown {
    return this.task.dependencyOutputs[stepId];
  }

  visibleIds(): string[] {
    return Object.keys(this.task.dependencyOutputs);
  }

  stepAt(): StepLike {
    return this.task.step;
  }

  configAt(): StepConfig {
    return this.task.config;
  }

  attemptStarted(_index: number, attempt: number): void {
    this.task.onAttempt?.({ type: 'step.started', attempt });
  }

  attemptRetrying(_index: number, attempt: number, error: unknown, delaySeconds: number): void {
    this.task.onAttempt?.({ type: 'step.retrying', attempt, error, delaySeconds });
  }

  callRetrying(_index: number, attempt: number, error: unknown, delaySeconds: number): void {
    this.task.onAttempt?.({ type: 'call.retrying', attempt, error, delaySeconds });
  }

  waitBeforeRetry(ms: number): Promise<boolean> {
    return this.cancelScope.sleep(ms).then(
      () => true,
      () => false,
    );
  }

  attemptEndedSoon(index: number, ok: boolean, outcome: unknown, usage: StepUsage | undefined, attempt: number): void {
    queueMicrotask(() => {
      if (ok) this.stepCompleted(index, outcome, usage, attempt);
      else retryOrFail(this, index, attempt, outcome, usage);
    });
  }

  stepCompleted(_index: number, output: unknown, usage: StepUsage | undefined, attempts: number): void {
    this.end({ status: isIncomplete(output) ? 'incomplete' : 'completed', output, usage, attempts });
  }

  stepFailed(_index: number, error: unknown, usage: StepUsage | undefined, attempts: number): void {
    this.end({ status: 'failed', error, usage, attempts });
  }

  private end(outcome: Omit<ExecutedStepOutcome, 'startedAt' | 'endedAt'>): void {
    if (this.ended) return;
    this.ended = true;
    this.cancelScope.dispose();
    this.resolve({ ...outcome, startedAt: this.startedAt, endedAt: this.clock.now() });
  }
}
