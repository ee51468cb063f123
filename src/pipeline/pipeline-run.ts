import { randomUUID } from 'node:crypto';
import type { StepConfig } from '../config/step-config';
import type { LazyAbort } from '../context/lazy-abort';
import type { RunBudget } from '../context/run-budget';
import { ConversationState, ConversationStatus } from '../conversation/conversation-state';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import { StepExecutionError, toError } from '../errors/step-execution-error';
import { executeStep } from '../executor/execute-step';
import type { StepOutcome, StepRunScope } from '../executor/step-run-scope';
import type { StepGraph } from '../graph/step-graph';
import { DependencyScheduler } from '../scheduler/dependency-scheduler';
import type { StepLike } from '../steps/base-step';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import type { Tracer } from '../tracing/tracer';
import { PipelineUsage } from '../usage/pipeline-usage';
import { StepUsage } from '../usage/step-usage';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import type { PipelineResult, StepTiming } from './pipeline-result';
import { resolveStepInstances } from './resolve-step-instances';

/** Usage reported for steps that made no `ctx.run` call. Frozen: `add` returns new objects. */
const NO_USAGE: StepUsage = Object.freeze(new StepUsage()) as StepUsage;

/** Options of one run. */
export interface PipelineRunOptions {
  tracer?: Tracer;
  signal?: AbortSignal;
  runId?: string;
  /** Receives every progress event; absent for `execute()`, which needs only the result. */
  emit?: (event: PipelineEvent) => void;
}

/**
 * One run of a pipeline: feeds the {@link DependencyScheduler} what finished, starts what it
 * says is ready with {@link executeStep}, and collects the result. `execute()` and `run()`
 * both go through here (one code path); `run()` passes `emit`.
 */
export class PipelineRun implements StepRunScope {
  readonly runId: string;
  readonly graph: StepGraph;
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly outputs: Record<string, unknown> = {};
  readonly runBudget: RunBudget;
  isAborted = false;

  private readonly definition: PipelineDefinition;
  private readonly emit: ((event: PipelineEvent) => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly scheduler: DependencyScheduler;
  private readonly aborts: (LazyAbort | undefined)[];
  private readonly timings: Record<string, StepTiming> = {};
  private readonly errors: Record<string, Error> = {};
  private readonly skipped: string[] = [];
  private readonly retryWaits = new Set<{ timer: NodeJS.Timeout; resolve: (goOn: boolean) => void }>();
  private steps: readonly StepLike[] = [];
  private usages: Record<string, StepUsage> | undefined;
  private conversationState: ConversationState<unknown> | undefined;
  private stoppedEarly = false;
  private finished = false;
  private startedAtMs = 0;
  private resolveRun: (result: PipelineResult<unknown>) => void = () => undefined;
  private rejectRun: (error: unknown) => void = () => undefined;

  constructor(definition: PipelineDefinition, input: unknown, deps: unknown, options: PipelineRunOptions = {}) {
    this.definition = definition;
    this.graph = definition.graph;
    this.inputs = toInputRecord(input);
    this.deps = deps;
    this.tracer = definition.config.trace ? (options.tracer ?? NOOP_TRACER) : NOOP_TRACER;
    this.runId = options.runId ?? randomUUID();
    this.emit = options.emit;
    this.signal = options.signal;
    this.runBudget = { budgetMicrocents: definition.config.runCostBudget, spentMicrocents: 0 };
    this.scheduler = new DependencyScheduler(definition.graph, definition.config.maxConcurrency);
    this.aborts = new Array<LazyAbort | undefined>(definition.graph.ids.length);
  }

  /** Runs the pipeline to its end. Call once. */
  execute(): Promise<PipelineResult<unknown>> {
    const signal = this.signal;
    if (signal?.aborted) return Promise.reject(new PipelineAbortedError(this.definition.name, signal.reason));
    try {
      this.steps = resolveStepInstances(this.definition, this.deps, this.tracer);
    } catch (error) {
      return Promise.reject(error);
    }
    this.emit?.({
      type: 'pipeline.started',
      pipeline: this.definition.name,
      runId: this.runId,
      levels: this.graph.levels.map((level) => [...level]),
    });
    const onAbort = () => this.cancel(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const body = () =>
      new Promise<PipelineResult<unknown>>((resolve, reject) => {
        this.resolveRun = resolve;
        this.rejectRun = reject;
        this.startedAtMs = performance.now();
        this.startSteps(this.scheduler.start());
      });
    const running =
      this.tracer === NOOP_TRACER
        ? body()
        : this.tracer.span(`pipeline.${this.definition.name}`, body, { pipeline: this.definition.name, runId: this.runId });
    if (signal === undefined) return running;
    return running.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Cancels the run: running steps' signals abort, nothing new starts, the run rejects with `PipelineAbortedError`. */
  cancel(reason?: unknown): void {
    this.abortRun(new PipelineAbortedError(this.definition.name, reason));
  }

  stepAt(index: number): StepLike {
    return this.steps[index];
  }

  configAt(index: number): StepConfig {
    return this.definition.configs[index];
  }

  attemptStarted(index: number, attempt: number, abort: LazyAbort): void {
    this.aborts[index] = abort;
    const id = this.graph.ids[index];
    const nowMs = performance.now() - this.startedAtMs;
    if (attempt === 1) this.timings[id] = { startMs: nowMs, endMs: nowMs, attempts: 1 };
    else this.timings[id].attempts = attempt;
    this.emit?.({ type: 'step.started', stepId: id, level: this.graph.levelOf[index], attempt });
  }

  attemptRetrying(index: number, attempt: number, error: unknown, delaySeconds: number): void {
    this.emit?.({ type: 'step.retrying', stepId: this.graph.ids[index], attempt, error: toError(error), delaySeconds });
  }

  waitBeforeRetry(ms: number): Promise<boolean> {
    if (this.isAborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.retryWaits.delete(wait);
          resolve(true);
        }, ms),
        resolve,
      };
      this.retryWaits.add(wait);
    });
  }

  private startSteps(indices: readonly number[]): void {
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i];
      executeStep(this, index).then((outcome) => this.settle(index, outcome));
    }
  }

  private settle(index: number, outcome: StepOutcome): void {
    if (this.finished) return;
    const id = this.graph.ids[index];
    this.aborts[index] = undefined;
    const timing = this.timings[id];
    timing.endMs = performance.now() - this.startedAtMs;
    if (outcome.usage !== undefined) (this.usages ??= {})[id] = outcome.usage;
    const toStart = outcome.ok ? this.completeStep(index, id, outcome, timing) : this.failStep(index, id, outcome.error);
    if (toStart === undefined) return;
    if (this.emit !== undefined) {
      for (const level of this.scheduler.takeCompletedLevels()) {
        this.emit({ type: 'level.completed', level, stepIds: [...this.graph.levels[level]] });
      }
    }
    this.startSteps(toStart);
    if (this.scheduler.isIdle) this.finish();
  }

  /** Records a completed step; returns the steps to start now. */
  private completeStep(index: number, id: string, outcome: StepOutcome, timing: StepTiming): readonly number[] {
    const output = outcome.output;
    this.outputs[id] = output;
    let stopsRun = false;
    if (output instanceof ConversationState && !this.stoppedEarly) {
      this.conversationState = output;
      stopsRun = output.status === ConversationStatus.INCOMPLETE;
    }
    if (stopsRun) {
      this.stoppedEarly = true;
      this.scheduler.stop();
    }
    this.emit?.({
      type: 'step.completed',
      stepId: id,
      level: this.graph.levelOf[index],
      output,
      usage: outcome.usage ?? NO_USAGE,
      durationMs: timing.endMs - timing.startMs,
    });
    if (stopsRun) this.emit?.({ type: 'pipeline.stopped', conversationState: output as ConversationState<unknown> });
    return this.scheduler.complete(index);
  }

  /** Records a failure; returns the steps to start now, or undefined when it failed the whole run. */
  private failStep(index: number, id: string, thrown: unknown): readonly number[] | undefined {
    const error = StepExecutionError.isInstance(thrown) ? thrown : new StepExecutionError(id, thrown);
    if (!this.stoppedEarly && this.definition.config.onError === 'fail') {
      this.abortRun(error);
      return undefined;
    }
    this.errors[id] = error;
    this.emit?.({ type: 'step.failed', stepId: id, level: this.graph.levelOf[index], error });
    for (const skippedIndex of this.scheduler.fail(index)) {
      const skippedId = this.graph.ids[skippedIndex];
      this.skipped.push(skippedId);
      this.emit?.({ type: 'step.skipped', stepId: skippedId, reason: `dependency '${id}' failed` });
    }
    return this.scheduler.next();
  }

  private abortRun(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.isAborted = true;
    this.scheduler.stop();
    for (const abort of this.aborts) abort?.abort(error);
    for (const wait of this.retryWaits) {
      clearTimeout(wait.timer);
      wait.resolve(false);
    }
    this.retryWaits.clear();
    this.rejectRun(error);
  }

  private finish(): void {
    this.finished = true;
    const outputStep = this.definition.outputStep;
    const result: PipelineResult<unknown> = {
      runId: this.runId,
      output: this.stoppedEarly ? undefined : this.outputs[outputStep],
      stepOutputs: this.outputs,
      conversationState: this.conversationState,
      usage: this.usages === undefined ? undefined : PipelineUsage.fromStepUsages(this.usages),
      stoppedEarly: this.stoppedEarly,
      errors: this.errors,
      skipped: this.skipped.sort((a, b) => this.graph.indexOf.get(a)! - this.graph.indexOf.get(b)!),
      timings: this.timings,
    };
    this.emit?.({ type: 'pipeline.completed', result });
    this.resolveRun(result);
  }
}

/** Input that is not a plain object is wrapped as `{ data: input }`. */
function toInputRecord(input: unknown): Record<string, unknown> {
  if (typeof input === 'object' && input !== null) {
    const prototype = Object.getPrototypeOf(input);
    if (prototype === Object.prototype || prototype === null) return input as Record<string, unknown>;
  }
  return { data: input };
}
