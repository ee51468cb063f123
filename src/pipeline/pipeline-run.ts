import { randomUUID } from 'node:crypto';
import type { StepConfig } from '../config/step-config';
import type { RunBudget } from '../context/run-budget';
import type { StepContext } from '../context/step-context';
import { ConversationState, ConversationStatus } from '../conversation/conversation-state';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import { StepExecutionError, toError } from '../errors/step-execution-error';
import { executeStep, retryOrFail } from '../executor/execute-step';
import { RetryWaits } from '../executor/retry-waits';
import type { StepRunScope } from '../executor/step-run-scope';
import { isAncestor } from '../graph/is-ancestor';
import type { StepGraph } from '../graph/step-graph';
import { DependencyScheduler, StepState } from '../scheduler/dependency-scheduler';
import type { StepLike } from '../steps/base-step';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import type { Tracer } from '../tracing/tracer';
import { PipelineUsage } from '../usage/pipeline-usage';
import { StepUsage } from '../usage/step-usage';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import type { PipelineResult, StepTiming } from './pipeline-result';
import { resolveStepInstances } from './resolve-step-instances';
import { toInputRecord } from './to-input-record';
import { IndexQueue } from '../scheduler/index-queue';
import { defineLazyProperty } from './define-lazy-property';
import { attachRunGraph } from './run-graph-of';

/** A settled promise to queue microtasks on. */
const SETTLED: Promise<void> = Promise.resolve();

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
 *
 * Per-step state lives in arrays indexed by declaration order; the result's records are
 * built once at the end (string-keyed writes of thousands of ids per run cost more than the
 * whole rest of the per-step path).
 */
export class PipelineRun implements StepRunScope {
  readonly runId: string;
  readonly graph: StepGraph;
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly runBudget: RunBudget;
  isAborted = false;

  private readonly definition: PipelineDefinition;
  private readonly emit: ((event: PipelineEvent) => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly scheduler: DependencyScheduler;
  private readonly outputs: unknown[];
  /** Contexts whose signal was read, by step: the run aborts them on failure or cancellation. */
  private contexts: (StepContext<unknown> | undefined)[] | undefined;
  private abortError: unknown;
  /** Steps the scheduler admitted, launched in order (the scheduler appends here: no array per step). */
  private readonly startQueue: IndexQueue;
  /**
   * Synchronous attempt ends waiting for their microtask, oldest first: a ring of step indices
   * (`~index` for a failure). A step has at most one pending end, so `size` slots suffice; its
   * output (or error) waits in `outputs`, its attempt in `attempts`, its usage in `pendingUsages`.
   */
  private readonly syncEnds: Int32Array;
  private syncEndsHead = 0;
  private syncEndsTail = 0;
  private pendingUsages: (StepUsage | undefined)[] | undefined;
  /** The last clock reading (ms since the run started), reusable while no step code ran since. */
  private clockMs = 0;
  private clockFresh = true;
  private readonly startMs: Float64Array;
  private readonly endMs: Float64Array;
  private readonly attempts: Int32Array;
  private readonly errors: Record<string, Error> = {};
  private readonly skipped: number[] = [];
  private readonly retryWaits = new RetryWaits();
  private steps: readonly StepLike[] = [];
  private usages: Record<string, StepUsage> | undefined;
  private conversationState: ConversationState<unknown> | undefined;
  private stoppedEarly = false;
  private finished = false;
  private startedAtMs = 0;
  private resolveRun: (result: PipelineResult<unknown>) => void = () => undefined;
  private rejectRun: (error: unknown) => void = () => undefined;

  constructor(definition: PipelineDefinition, input: unknown, deps: unknown, options: PipelineRunOptions = {}) {
    const size = definition.graph.ids.length;
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
    this.startQueue = new IndexQueue(size);
    // One buffer for the per-step numbers of the run: one allocation instead of three.
    const buffer = new ArrayBuffer(size * 20);
    this.startMs = new Float64Array(buffer, 0, size);
    this.endMs = new Float64Array(buffer, size * 8, size);
    this.attempts = new Int32Array(buffer, size * 16, size);
    this.outputs = new Array<unknown>(size);
    this.syncEnds = new Int32Array(size);
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
      levels: this.graph.levels as string[][], // frozen, shared: a chain has a level per step
    });
    const onAbort = () => this.cancel(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const body = () =>
      new Promise<PipelineResult<unknown>>((resolve, reject) => {
        this.resolveRun = resolve;
        this.rejectRun = reject;
        this.startedAtMs = performance.now();
        this.scheduler.start(this.startQueue);
        this.advance();
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

  /* StepRunView: what a step's context reads. */

  stepIdAt(index: number): string {
    return this.graph.ids[index];
  }

  isVisibleTo(stepId: string, index: number): boolean {
    const other = this.graph.indexOf.get(stepId);
    return other !== undefined && this.scheduler.state[other] === StepState.Completed && isAncestor(this.graph, other, index);
  }

  outputOf(stepId: string): unknown {
    return this.outputs[this.graph.indexOf.get(stepId)!];
  }

  visibleIds(index: number): string[] {
    return this.graph.ids.filter((id) => this.isVisibleTo(id, index));
  }

  /* StepRunScope: what the executor reads and reports. */

  stepAt(index: number): StepLike {
    return this.steps[index];
  }

  configAt(index: number): StepConfig {
    return this.definition.configs[index];
  }

  signalCreated(index: number, ctx: StepContext<unknown>): void {
    if (this.isAborted) ctx.abortAttempt(this.abortError);
    else if (this.scheduler.state[index] === StepState.Running) (this.contexts ??= [])[index] = ctx;
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

  waitBeforeRetry(ms: number): Promise<boolean> {
    return this.retryWaits.wait(ms);
  }

  attemptEndedSoon(index: number, ok: boolean, outcome: unknown, usage: StepUsage | undefined, attempt: number): void {
    this.outputs[index] = outcome;
    this.attempts[index] = attempt;
    if (usage !== undefined) (this.pendingUsages ??= [])[index] = usage;
    const tail = this.syncEndsTail;
    this.syncEnds[tail] = ok ? index : ~index;
    this.syncEndsTail = tail + 1 === this.syncEnds.length ? 0 : tail + 1;
    // A reaction on a settled promise: the same microtask queue as `queueMicrotask`, at half its cost on Node 20.
    SETTLED.then(this.processSyncEnd);
  }

  /**
   * Processes the oldest synchronous attempt end, one microtask after it was reported: in
   * order with the ends of asynchronous steps queued before it (so what happened first is
   * seen first), and a chain of synchronous steps never recurses. One shared function and
   * flat arrays: no closure, object or promise chain per step.
   */
  private readonly processSyncEnd = (): void => {
    const head = this.syncEndsHead;
    const code = this.syncEnds[head];
    this.syncEndsHead = head + 1 === this.syncEnds.length ? 0 : head + 1;
    const index = code >= 0 ? code : ~code;
    const outcome = this.outputs[index];
    let usage: StepUsage | undefined;
    if (this.pendingUsages !== undefined) {
      usage = this.pendingUsages[index];
      this.pendingUsages[index] = undefined;
    }
    if (code >= 0) {
      this.stepCompleted(index, outcome, usage, this.attempts[index]);
    } else {
      this.outputs[index] = undefined;
      retryOrFail(this, index, this.attempts[index], outcome, usage);
    }
  };

  stepCompleted(index: number, output: unknown, usage: StepUsage | undefined, attempts: number): void {
    if (this.finished) return;
    const nowMs = this.settle(index, usage, attempts);
    const id = this.graph.ids[index];
    this.outputs[index] = output;
    let stopsRun = false;
    if (output instanceof ConversationState && !this.stoppedEarly) {
      this.conversationState = output;
      stopsRun = output.status === ConversationStatus.INCOMPLETE;
    }
    if (stopsRun) {
      this.stoppedEarly = true;
      this.scheduler.stop();
    }
    const emit = this.emit;
    if (emit !== undefined) {
      emit({
        type: 'step.completed',
        stepId: id,
        level: this.graph.levelOf[index],
        output,
        usage: usage ?? NO_USAGE,
        durationMs: nowMs - this.startMs[index],
      });
      if (stopsRun) emit({ type: 'pipeline.stopped', conversationState: output as ConversationState<unknown> });
    }
    this.scheduler.complete(index, this.startQueue);
    this.advance();
  }

  stepFailed(index: number, thrown: unknown, usage: StepUsage | undefined, attempts: number): void {
    if (this.finished) return;
    const id = this.graph.ids[index];
    const stepUsage = usage ?? NO_USAGE;
    const error = StepExecutionError.isInstance(thrown) ? thrown : new StepExecutionError(id, thrown, stepUsage);
    if (!this.stoppedEarly && this.definition.config.onError === 'fail') {
      // The stream says which step failed, then errors with the same error.
      this.emit?.({ type: 'step.failed', stepId: id, level: this.graph.levelOf[index], error, usage: stepUsage });
      this.abortRun(error);
      return;
    }
    const nowMs = this.settle(index, usage, attempts);
    this.errors[id] = error;
    this.emit?.({ type: 'step.failed', stepId: id, level: this.graph.levelOf[index], error, usage: stepUsage });
    for (const skippedIndex of this.scheduler.fail(index)) {
      this.skipped.push(skippedIndex);
      this.emit?.({ type: 'step.skipped', stepId: this.graph.ids[skippedIndex], reason: `dependency '${id}' failed` });
    }
    this.scheduler.next(this.startQueue);
    this.advance();
  }

  /** Records the end of a step's last attempt, as the run sees it; returns the time (ms since the run started). */
  private settle(index: number, usage: StepUsage | undefined, attempts: number): number {
    const nowMs = performance.now() - this.startedAtMs;
    this.clockMs = nowMs;
    this.clockFresh = true;
    this.endMs[index] = nowMs;
    this.attempts[index] = attempts;
    if (this.contexts !== undefined) this.contexts[index] = undefined;
    if (usage !== undefined) (this.usages ??= {})[this.graph.ids[index]] = usage;
    return nowMs;
  }

  /** Reports completed levels, launches what the scheduler admitted, and finishes the run when nothing is left. */
  private advance(): void {
    if (this.emit !== undefined) {
      for (const level of this.scheduler.takeCompletedLevels()) {
        // The graph's own (frozen) array: event payloads are read-only, and a chain has a level per step.
        this.emit({ type: 'level.completed', level, stepIds: this.graph.levels[level] as string[] });
      }
    }
    const queue = this.startQueue;
    // `launch` never ends a step synchronously (see attemptEndedSoon), so this loop is not
    // re-entered; only a subscriber cancelling the run from an event handler can end the run here.
    for (let i = 0; i < queue.count && !this.finished; i++) this.launch(queue.items[i]);
    queue.count = 0;
    if (!this.finished && this.scheduler.isIdle) this.finish();
  }

  private launch(index: number): void {
    const startMs = this.clockFresh ? this.clockMs : performance.now() - this.startedAtMs;
    this.clockFresh = false;
    this.startMs[index] = startMs;
    this.emit?.({ type: 'step.started', stepId: this.graph.ids[index], level: this.graph.levelOf[index], attempt: 1 });
    executeStep(this, index);
  }

  private abortRun(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.isAborted = true;
    this.abortError = error;
    this.scheduler.stop();
    if (this.contexts !== undefined) for (const ctx of this.contexts) ctx?.abortAttempt(error);
    this.retryWaits.cancelAll();
    this.rejectRun(error);
  }

  private finish(): void {
    this.finished = true;
    const outputIndex = this.graph.indexOf.get(this.definition.outputStep)!;
    const completed = this.scheduler.state[outputIndex] === StepState.Completed;
    const result = {
      runId: this.runId,
      output: this.stoppedEarly || !completed ? undefined : this.outputs[outputIndex],
      conversationState: this.conversationState,
      usage: this.usages === undefined ? undefined : PipelineUsage.fromStepUsages(this.usages),
      stoppedEarly: this.stoppedEarly,
      errors: this.errors,
      skipped: this.skipped.sort((a, b) => a - b).map((index) => this.graph.ids[index]),
    } as PipelineResult<unknown>;
    defineLazyProperty(result, 'stepOutputs', () => this.collectStepOutputs());
    defineLazyProperty(result, 'timings', () => this.collectTimings());
    attachRunGraph(result, this.definition); // for toMermaidGantt's critical path (non-enumerable)
    this.emit?.({ type: 'pipeline.completed', result });
    this.resolveRun(result);
  }

  private collectStepOutputs(): Record<string, unknown> {
    const { ids } = this.graph;
    const stepOutputs: Record<string, unknown> = {};
    for (let index = 0; index < ids.length; index++) {
      if (this.scheduler.state[index] === StepState.Completed) stepOutputs[ids[index]] = this.outputs[index];
    }
    return stepOutputs;
  }

  private collectTimings(): Record<string, StepTiming> {
    const { ids } = this.graph;
    const timings: Record<string, StepTiming> = {};
    for (let index = 0; index < ids.length; index++) {
      const state = this.scheduler.state[index];
      if (state === StepState.Completed || state === StepState.Failed) {
        timings[ids[index]] = { startMs: this.startMs[index], endMs: this.endMs[index], attempts: this.attempts[index] };
      }
    }
    return timings;
  }
}
