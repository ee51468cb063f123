import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { DependencyContainer } from 'tsyringe';
import type { StepConfig } from '../config/step-config';
import { LocalRunBudget, type RunBudget } from '../context/run-budget';
import { ConversationState, ConversationStatus } from '../conversation/conversation-state';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { StepExecutionError, toError } from '../errors/step-execution-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { CancelScope } from '../executor/cancel-scope';
import type { StepOutcome, StepTask } from '../executor/run-step-task';
import type { StepRunner } from '../executor/step-runner';
import { executeStep, retryOrFail } from '../executor/execute-step';
import type { StepRunScope } from '../executor/step-run-scope';
import { isAncestor } from '../graph/is-ancestor';
import type { StepGraph } from '../graph/step-graph';
import { DependencyScheduler, StepState } from '../scheduler/dependency-scheduler';
import { IndexQueue } from '../scheduler/index-queue';
import type { StepLike } from '../steps/base-step';
import type { RecordOutcome, StepRecord } from '../store/run-store';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import { reportHookFailure } from '../tracing/report-hook-failure';
import type { Tracer } from '../tracing/tracer';
import { PipelineUsage } from '../usage/pipeline-usage';
import { EMPTY_STEP_USAGE, type StepUsage } from '../usage/step-usage';
import { defineLazyProperty } from './define-lazy-property';
import type { DurableRun } from '../durable/durable-run';
import { fingerprintOf } from '../durable/fingerprint-of';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineEvent, StepCompletedEvent } from './pipeline-event';
import type { PipelineResult } from './pipeline-result';
import { disposeRunContainer, resolveStepInstances, type RunStepInstances } from './resolve-step-instances';
import { attachRunGraph } from './run-graph-of';
import { RunStepTable } from './run-step-table';
import { SyncEndRing } from './sync-end-ring';
import { toInputRecord } from './to-input-record';

const GO_ON = (): boolean => true;
const STOP = (): boolean => false;

/** A settled promise to queue microtasks on. */
const SETTLED: Promise<void> = Promise.resolve();

/** Usage reported for steps that made no `ctx.run` call. Frozen: `add` returns new objects. */
const NO_USAGE: StepUsage = EMPTY_STEP_USAGE;

/** Options of one run. */
export interface PipelineRunOptions {
  tracer?: Tracer;
  signal?: AbortSignal;
  runId?: string;
  /** Receives every progress event; absent for `execute()` without `onEvent`. */
  emit?: (event: PipelineEvent) => void;
  /** Records the run in a store (created or claimed before the run starts; see `openDurableRun`). */
  durable?: DurableRun;
  /** Runs the steps elsewhere (API.md §13); absent: in this process, on the fastest path. */
  runner?: StepRunner;
}

/**
 * One run of a pipeline. The protocol, for each step that ends:
 *
 *   1. settle   — its timings and usage go into the step table;
 *   2. record   — with a store, its record is written (a batch per tick) and awaited;
 *   3. admit    — the scheduler starts the dependents it made ready;
 *   4. announce — `step.completed` / `step.failed` is emitted.
 *
 * Without a store step 2 is skipped and nothing is awaited: the in-memory path costs what it
 * did before stores existed. `execute()` and `run()` both go through here; `run()` passes `emit`.
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
  private readonly table: RunStepTable;
  private readonly durable: DurableRun | undefined;
  private readonly runner: StepRunner | undefined;
  private runnerSignalShared: AbortSignal | undefined;
  /** Steps the scheduler admitted, launched in order (the scheduler appends here: no array per step). */
  private readonly startQueue: IndexQueue;
  private readonly syncEnds: SyncEndRing;
  /**
   * The run's cancel scope: every attempt's scope (its deadline, its signal) and every retry
   * wait is a child, so ending the run aborts them all and no timer outlives it.
   */
  readonly cancelScope: CancelScope = CancelScope.root();
  /** Failures waiting for their record, by step (durable runs). */
  private pendingFailures: (StepExecutionError | undefined)[] | undefined;
  private abortError: unknown;
  /** A failure that ends the run once running steps drained (durable runs, `failFast: false`). */
  private drainedFailure: StepExecutionError | undefined;
  /** The last clock reading (ms since the run started), reusable while no step code ran since. */
  private clockMs = 0;
  private clockFresh = true;
  private readonly errors: Record<string, Error> = {};
  private readonly skipped: number[] = [];
  private steps: readonly StepLike[] = [];
  /** The run's DI child container (class steps only): disposed when the run ends. */
  private container: DependencyContainer | undefined;
  private conversationState: ConversationState<unknown> | undefined;
  private stoppedEarly = false;
  private started = false;
  private finished = false;
  private startedAtMs = 0;
  /** The run's outcome: settled by `finish` or `abortRun`, never by a tracer's span. */
  private settled: Promise<PipelineResult<unknown>> | undefined;
  private resolveRun: (result: PipelineResult<unknown>) => void = () => undefined;
  private rejectRun: (error: unknown) => void = () => undefined;

  constructor(definition: PipelineDefinition, input: unknown, deps: unknown, options: PipelineRunOptions = {}) {
    const size = definition.graph.ids.length;
    this.definition = definition;
    this.graph = definition.graph;
    this.inputs = toInputRecord(input);
    this.deps = deps;
    this.tracer = definition.config.trace ? (options.tracer ?? NOOP_TRACER) : NOOP_TRACER;
    this.durable = options.durable;
    this.runner = options.runner;
    options.durable?.attach(this);
    this.runId = options.durable?.runId ?? options.runId ?? randomUUID();
    this.emit = options.emit;
    this.signal = options.signal;
    this.runBudget =
      options.durable === undefined
        ? new LocalRunBudget(definition.config.runCostBudget)
        : options.durable.runBudget(definition.config.runCostBudget, (error) => this.abortRun(error));
    this.scheduler = new DependencyScheduler(definition.graph, definition.config.maxConcurrency);
    this.startQueue = new IndexQueue(size);
    this.table = new RunStepTable(size);
    this.syncEnds = new SyncEndRing(size);
  }

  /** Runs the pipeline to its end. Call once. */
  execute(): Promise<PipelineResult<unknown>> {
    if (this.finished) return Promise.reject(this.abortError); // cancelled before it started
    const signal = this.signal;
    if (signal?.aborted) return this.endBeforeStart(new PipelineAbortedError(this.definition.name, signal.reason));
    let instances: RunStepInstances;
    try {
      instances = resolveStepInstances(this.definition, this.deps, this.tracer);
    } catch (error) {
      return this.endBeforeStart(error);
    }
    this.steps = instances.steps;
    this.container = instances.container;
    const settled = new Promise<PipelineResult<unknown>>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
    });
    this.settled = settled;
    const onAbort = () => this.cancel(signal?.reason);
    // Listening before the first event: a pipeline.started handler may abort the signal.
    signal?.addEventListener('abort', onAbort, { once: true });
    this.emit?.({
      type: 'pipeline.started',
      pipeline: this.definition.name,
      runId: this.runId,
      levels: this.graph.levels as string[][], // frozen, shared: a chain has a level per step
    });
    if (this.durable !== undefined && !this.finished) this.restoreRecordedSteps();
    // A handler may have cancelled the run (abort, unsubscribe): then nothing starts.
    if (!this.finished) this.startTraced();
    if (signal === undefined) return settled;
    return settled.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Cancels the run: running steps' signals abort, nothing new starts, the run rejects with `PipelineAbortedError`. */
  cancel(reason?: unknown): void {
    this.abortRun(new PipelineAbortedError(this.definition.name, reason));
  }

  /* The protocol of a step's end: settle → record → admit → announce. */

  /** @param recorded the step's record when a runner wrote it already (see StepOutcome.recorded) */
  stepCompleted(index: number, output: unknown, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord): void {
    if (this.finished) return;
    this.settle(index, usage, attempts, recorded);
    this.table.outputs[index] = output;
    if (this.durable === undefined) this.admitCompleted(index);
    else if (recorded !== undefined) this.stepRecorded(index, 'recorded', recorded);
    else this.recordStep(index, 'completed', output, usage, undefined);
  }

  /** @param recorded the step's record when a runner wrote it already (see StepOutcome.recorded) */
  stepFailed(index: number, thrown: unknown, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord): void {
    if (this.finished) return;
    const id = this.graph.ids[index];
    const stepUsage = usage ?? NO_USAGE;
    const error = StepExecutionError.isInstance(thrown) ? thrown : new StepExecutionError(id, thrown, stepUsage);
    const failsRun = !this.stoppedEarly && this.drainedFailure === undefined && this.definition.config.onError === 'fail';
    if (failsRun && (this.durable === undefined || this.definition.config.failFast)) {
      // Fail fast: the stream says which step failed, then errors with the same error.
      this.emit?.({ type: 'step.failed', stepId: id, level: this.graph.levelOf[index], error, usage: stepUsage });
      this.abortRun(error);
      return;
    }
    this.settle(index, usage, attempts, recorded);
    if (this.durable === undefined) {
      this.announceFailure(index, error);
      return;
    }
    (this.pendingFailures ??= [])[index] = error;
    if (recorded !== undefined) this.stepRecorded(index, 'recorded', recorded);
    else this.recordStep(index, 'failed', undefined, usage, error);
  }

  /** The record of step `index` was written (or refused): go on with the value the store holds. */
  stepRecorded(index: number, outcome: RecordOutcome, record: StepRecord): void {
    if (this.finished) return;
    if (outcome === 'stale-epoch') {
      this.abortRun(new RunLeaseLostError(this.runId, this.durable!.epoch));
      return;
    }
    if (outcome === 'duplicate') {
      // Another writer recorded this step first (a retried batch, a racing worker): its record wins.
      this.durable!.adoptRecorded(index, record).then(
        (adopted) => {
          if (this.finished) return;
          if (adopted.status === 'failed') this.afterFailedRecord(index);
          else {
            this.table.outputs[index] = adopted.output;
            this.admitCompleted(index);
          }
        },
        (error: unknown) => this.abortRun(error),
      );
      return;
    }
    if (record.status === 'failed') this.afterFailedRecord(index);
    else this.admitCompleted(index);
  }

  /** Admits a completed step's dependents, then announces it (after its record, with a store). */
  private admitCompleted(index: number): void {
    const output = this.table.outputs[index];
    let stopsRun = false;
    if (output instanceof ConversationState && !this.stoppedEarly && this.drainedFailure === undefined) {
      this.conversationState = output;
      stopsRun = output.status === ConversationStatus.INCOMPLETE;
    }
    if (stopsRun) {
      this.stoppedEarly = true;
      this.scheduler.stop();
    }
    this.scheduler.complete(index, this.startQueue);
    const emit = this.emit;
    if (emit !== undefined) {
      const event: StepCompletedEvent = {
        type: 'step.completed',
        stepId: this.graph.ids[index],
        level: this.graph.levelOf[index],
        output,
        usage: this.usageAt(index),
        durationMs: this.table.endMs[index] - this.table.startMs[index],
      };
      const workerId = this.table.workerIds?.[index];
      if (workerId !== undefined) event.workerId = workerId;
      emit(event);
      if (stopsRun) emit({ type: 'pipeline.stopped', conversationState: output as ConversationState<unknown> });
    }
    this.advance();
  }

  private afterFailedRecord(index: number): void {
    const error = this.pendingFailures![index]!;
    this.pendingFailures![index] = undefined;
    this.announceFailure(index, error);
  }

  /**
   * A step failed for good (settled, and recorded with a store). Under `onError: 'continue'`
   * (or after an INCOMPLETE stop) its dependents are skipped and the rest goes on; under
   * `'fail'` with a store, nothing new starts, running steps drain and are recorded, and the
   * run rejects once they have.
   */
  private announceFailure(index: number, error: StepExecutionError): void {
    const id = this.graph.ids[index];
    if (!this.stoppedEarly && this.drainedFailure === undefined && this.definition.config.onError === 'fail') {
      this.drainedFailure = error;
      this.scheduler.stop();
      this.emit?.({ type: 'step.failed', stepId: id, level: this.graph.levelOf[index], error, usage: this.usageAt(index) });
      this.scheduler.fail(index);
      this.advance();
      return;
    }
    if (this.drainedFailure !== undefined) {
      // A sibling failing while the run drains: recorded, and the run's error stays the first one.
      this.scheduler.fail(index);
      this.advance();
      return;
    }
    this.errors[id] = error;
    this.emit?.({ type: 'step.failed', stepId: id, level: this.graph.levelOf[index], error, usage: this.usageAt(index) });
    for (const skippedIndex of this.scheduler.fail(index)) {
      this.skipped.push(skippedIndex);
      this.emit?.({ type: 'step.skipped', stepId: this.graph.ids[skippedIndex], reason: `dependency '${id}' failed` });
    }
    this.scheduler.next(this.startQueue);
    this.advance();
  }

  private recordStep(index: number, status: 'completed' | 'failed', output: unknown, usage: StepUsage | undefined, error: StepExecutionError | undefined): void {
    const durable = this.durable!;
    let record: StepRecord;
    try {
      record = durable.stepRecord(index, status, output, usage ?? NO_USAGE, error, this.table);
    } catch (notStorable) {
      // An output the store cannot hold fails its step (never retried): nothing half-recorded.
      this.table.outputs[index] = undefined;
      const failure = new StepExecutionError(this.graph.ids[index], notStorable);
      (this.pendingFailures ??= [])[index] = failure;
      record = durable.stepRecord(index, 'failed', undefined, usage ?? NO_USAGE, failure, this.table);
    }
    durable.record(index, record);
  }

  /**
   * Records the end of a step's last attempt, as the run sees it; a step a runner recorded
   * takes its times and worker from its record (when it really ran, where).
   */
  private settle(index: number, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord): void {
    const nowMs = performance.now() - this.startedAtMs;
    this.clockMs = nowMs;
    this.clockFresh = true;
    this.table.endMs[index] = nowMs;
    this.table.attempts[index] = attempts;
    if (usage !== undefined) this.table.setUsage(this.graph.ids[index], usage);
    if (recorded !== undefined) {
      this.table.startMs[index] = this.durable!.msSinceBegan(recorded.startedAt);
      this.table.endMs[index] = this.durable!.msSinceBegan(recorded.endedAt);
      this.table.setWorkerId(index, recorded.workerId);
    }
  }

  private usageAt(index: number): StepUsage {
    return this.table.usages?.[this.graph.ids[index]] ?? NO_USAGE;
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
    this.table.startMs[index] = startMs;
    const emit = this.emit;
    const runner = this.runner;
    // A remote runner reports the start itself, when (and where) the step really starts.
    if (emit !== undefined && (runner === undefined || runner.reportsStepStarts !== true)) {
      emit({ type: 'step.started', stepId: this.graph.ids[index], level: this.graph.levelOf[index], attempt: 1 });
      if (this.finished) return; // its handler cancelled the run
    }
    if (runner === undefined) executeStep(this, index);
    else this.runOnRunner(runner, index);
  }

  /** Hands step `index` to the runner as data, and goes on with its outcome as with the executor's. */
  private runOnRunner(runner: StepRunner, index: number): void {
    const stepId = this.graph.ids[index];
    const level = this.graph.levelOf[index];
    const task: StepTask = {
      runId: this.runId,
      stepId,
      step: this.steps[index],
      config: this.definition.configs[index],
      inputs: this.inputs,
      dependencyOutputs: this.visibleOutputs(index),
      deps: this.deps,
      tracer: this.tracer,
      signal: this.runnerSignal(),
      runBudget: this.runBudget,
      onAttempt: (event) => {
        if (this.finished) return;
        if (event.type !== 'step.started') {
          this.emit?.({ type: event.type, stepId, attempt: event.attempt, error: toError(event.error), delaySeconds: event.delaySeconds });
        } else if (event.workerId === undefined) this.emit?.({ type: 'step.started', stepId, level, attempt: event.attempt });
        else this.emit?.({ type: 'step.started', stepId, level, attempt: event.attempt, workerId: event.workerId });
      },
    };
    const durable = this.durable;
    if (durable !== undefined) {
      task.durable = {
        store: durable.store,
        pipeline: this.definition.name,
        fingerprint: fingerprintOf(this.graph, this.definition.outputStep),
        generation: durable.generationAt(index),
        epoch: durable.epoch,
      };
    }
    let outcome: Promise<StepOutcome>;
    try {
      outcome = runner.runStep(task);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    Promise.resolve(outcome).then(
      (ended) => {
        if (ended.status === 'failed') this.stepFailed(index, ended.error, ended.usage, ended.attempts, ended.recorded);
        else this.stepCompleted(index, ended.output, ended.usage, ended.attempts, ended.recorded);
      },
      (error: unknown) => this.stepFailed(index, error, undefined, 1),
    );
  }

  /**
   * The run's signal, as every task handed to a runner gets it: each running task listens to
   * it, so a wide fan-out adds more than Node's default of 10 listeners (not a leak: a task
   * removes its listener when it ends).
   */
  private runnerSignal(): AbortSignal {
    const signal = this.cancelScope.signal;
    if (this.runnerSignalShared !== signal) {
      setMaxListeners(0, signal);
      this.runnerSignalShared = signal;
    }
    return signal;
  }

  /** The outputs step `index` may read: its transitive dependencies', by id. */
  private visibleOutputs(index: number): Record<string, unknown> {
    const outputs: Record<string, unknown> = {};
    const seen = new Uint8Array(this.graph.ids.length);
    const stack = [...this.graph.dependencies[index]];
    while (stack.length > 0) {
      const dependency = stack.pop()!;
      if (seen[dependency] === 1) continue;
      seen[dependency] = 1;
      outputs[this.graph.ids[dependency]] = this.table.outputs[dependency];
      stack.push(...this.graph.dependencies[dependency]);
    }
    return outputs;
  }

  /* Starting. */

  /** Rejects before anything ran (a store's run record is still ended: aborted or failed). */
  private endBeforeStart(error: unknown): Promise<PipelineResult<unknown>> {
    this.finished = true;
    if (this.durable === undefined) return Promise.reject(error);
    return this.durable.end(PipelineAbortedError.isInstance(error) ? 'aborted' : 'failed', error).then(
      () => Promise.reject(error),
      () => Promise.reject(error),
    );
  }

  /**
   * Restores what an earlier run recorded (a resume): each restored step counts as completed
   * for the scheduler, its output, usage and timings come from its record, and `step.completed`
   * is emitted for it with `restored: true`, in declaration order, right after `pipeline.started`.
   */
  private restoreRecordedSteps(): void {
    const durable = this.durable!;
    try {
      durable.restoreInto(this.table, (index) => this.scheduler.restore(index));
    } catch (error) {
      this.abortRun(error);
      return;
    }
    const restored = this.table.restored;
    if (restored === undefined) return;
    for (let index = 0; index < restored.length && !this.finished; index++) {
      if (restored[index] !== 1) continue;
      const output = this.table.outputs[index];
      if (output instanceof ConversationState && this.conversationState === undefined) this.conversationState = output;
      const event: StepCompletedEvent = {
        type: 'step.completed',
        stepId: this.graph.ids[index],
        level: this.graph.levelOf[index],
        output,
        usage: this.usageAt(index),
        durationMs: this.table.endMs[index] - this.table.startMs[index],
        restored: true,
      };
      const workerId = this.table.workerIds?.[index];
      if (workerId !== undefined) event.workerId = workerId;
      this.emit?.(event);
    }
  }

  /**
   * Starts the run inside the tracer's `pipeline.<name>` span. The run's outcome is its own
   * (`settled`), never the span's: a span that calls `fn` late, twice or never, returns
   * something else, or throws, cannot start the run twice, keep it from settling on abort, or
   * change its result (API.md §10). A span that settles without calling `fn`, or throws, is
   * reported and the run goes on untraced.
   */
  private startTraced(): void {
    const tracer = this.tracer;
    if (tracer === NOOP_TRACER) {
      this.begin();
      return;
    }
    const name = `pipeline.${this.definition.name}`;
    const body = () => {
      this.begin();
      return this.settled!;
    };
    let span: unknown;
    try {
      span = tracer.span(name, body, { pipeline: this.definition.name, runId: this.runId });
    } catch (error) {
      reportHookFailure(tracer, `tracer span '${name}'`, error);
      this.begin();
      return;
    }
    const startUntraced = (error?: unknown) => {
      if (this.started || this.finished) return;
      reportHookFailure(tracer, `tracer span '${name}'`, error ?? new Error('the span settled without calling its function'));
      this.begin();
    };
    Promise.resolve(span).then(() => startUntraced(), startUntraced);
  }

  /** Starts the scheduler: once, and not after the run ended. */
  private begin(): void {
    if (this.started || this.finished) return;
    this.started = true;
    this.startedAtMs = performance.now();
    this.durable?.began();
    this.scheduler.start(this.startQueue);
    this.advance();
  }

  /* Ending. */

  /** Ends the run with `error`: running steps abort, nothing new starts, the run rejects (a store's failure, a lost lease). */
  abortRun(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.isAborted = true;
    this.abortError = error;
    this.scheduler.stop();
    this.cancelScope.abort(error);
    if (this.container !== undefined) disposeRunContainer(this.container);
    if (this.durable === undefined) {
      this.rejectRun(error);
      return;
    }
    // After a lost lease or a failing store, nothing more is written (it would be refused or fail).
    const writable = !RunLeaseLostError.isInstance(error) && !StoreUnavailableError.isInstance(error);
    const status = PipelineAbortedError.isInstance(error) ? 'aborted' : 'failed';
    const reject = () => this.rejectRun(error);
    this.durable.end(status, error, writable).then(reject, reject);
  }

  private finish(): void {
    this.finished = true;
    if (this.container !== undefined) disposeRunContainer(this.container);
    const failure = this.drainedFailure;
    if (failure !== undefined) {
      const reject = () => this.rejectRun(failure);
      this.durable!.end('failed', failure).then(reject, reject);
      return;
    }
    const result = this.buildResult();
    if (this.durable === undefined) {
      this.emit?.({ type: 'pipeline.completed', result });
      this.resolveRun(result);
      return;
    }
    // Persist, then announce: the run's status is written before pipeline.completed.
    this.durable.end(this.stoppedEarly ? 'stopped' : 'completed', undefined, true, this.stoppedEarly ? this.conversationState : undefined).then(
      () => {
        this.emit?.({ type: 'pipeline.completed', result });
        this.resolveRun(result);
      },
      (error: unknown) => this.rejectRun(error),
    );
  }

  private buildResult(): PipelineResult<unknown> {
    const outputIndex = this.graph.indexOf.get(this.definition.outputStep)!;
    const state = this.scheduler.state;
    const completed = state[outputIndex] === StepState.Completed;
    const usages = this.table.usages;
    const result = {
      runId: this.runId,
      output: this.stoppedEarly || !completed ? undefined : this.table.outputs[outputIndex],
      conversationState: this.conversationState,
      usage: usages === undefined ? undefined : PipelineUsage.fromStepUsages(usages),
      stoppedEarly: this.stoppedEarly,
      errors: this.errors,
      skipped: this.skipped.sort((a, b) => a - b).map((index) => this.graph.ids[index]),
    } as PipelineResult<unknown>;
    const offsetMs = this.durable?.timingOffsetMs ?? 0;
    defineLazyProperty(result, 'stepOutputs', () => this.table.collectStepOutputs(this.graph, state));
    defineLazyProperty(result, 'timings', () => this.table.collectTimings(this.graph, state, offsetMs));
    attachRunGraph(result, this.definition); // for toMermaidGantt's critical path (non-enumerable)
    return result;
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
    return this.table.outputs[this.graph.indexOf.get(stepId)!];
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
    return this.cancelScope.sleep(ms).then(GO_ON, STOP);
  }

  attemptEndedSoon(index: number, ok: boolean, outcome: unknown, usage: StepUsage | undefined, attempt: number): void {
    const table = this.table;
    table.outputs[index] = outcome;
    table.attempts[index] = attempt;
    if (usage !== undefined) (table.pendingUsages ??= [])[index] = usage;
    this.syncEnds.push(ok ? index : ~index);
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
    const code = this.syncEnds.shift();
    const index = code >= 0 ? code : ~code;
    const table = this.table;
    const outcome = table.outputs[index];
    let usage: StepUsage | undefined;
    if (table.pendingUsages !== undefined) {
      usage = table.pendingUsages[index];
      table.pendingUsages[index] = undefined;
    }
    if (code >= 0) {
      this.stepCompleted(index, outcome, usage, table.attempts[index]);
    } else {
      table.outputs[index] = undefined;
      retryOrFail(this, index, table.attempts[index], outcome, usage);
    }
  };
}
