import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock/clock';
import type { DependencyContainer } from 'tsyringe';
import { LocalRunBudget, type RunBudget } from '../context/run-budget';
import { ConversationState, ConversationStatus } from '../conversation/conversation-state';
import type { DurableRun } from '../durable/durable-run';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { StepExecutionError } from '../errors/step-execution-error';
import { CancelScope } from '../executor/cancel-scope';
import { executeStep } from '../executor/execute-step';
import type { StepRunner } from '../executor/step-runner';
import type { StepGraph } from '../graph/step-graph';
import { DependencyScheduler } from '../scheduler/dependency-scheduler';
import { IndexQueue } from '../scheduler/index-queue';
import type { RecordOutcome, StepRecord } from '../store/run-store';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import type { Tracer } from '../tracing/tracer';
import { EMPTY_STEP_USAGE, type StepUsage } from '../usage/step-usage';
import { announceStepFailure, failureEndsRun } from './announce-step-failure';
import { beginInPipelineSpan } from './begin-in-pipeline-span';
import { abortRunWith, finishRun, rejectBeforeStart } from './end-run';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import type { PipelineResult } from './pipeline-result';
import type { PipelineRunOptions } from './pipeline-run-options';
import { PipelineStepScope } from './pipeline-step-scope';
import { recordStep } from './record-step';
import { resolveStepInstances } from './resolve-step-instances';
import { restoreRecordedSteps } from './restore-recorded-steps';
import { recordedStepError } from './recorded-step-error';
import { runOnRunner } from './run-on-runner';
import { RunClock } from './run-clock';
import { RunStepTable } from './run-step-table';
import { stepCompletedEvent, stepFailedEvent } from './step-end-events';
import { toInputRecord } from './to-input-record';

/**
 * One run of a pipeline: it starts, takes each step's end through this protocol, and finishes.
 *
 *   1. settle   — the step's timings and usage go into the step table;
 *   2. record   — with a store, its record is written (a batch per tick) and awaited;
 *   3. admit    — the scheduler starts the dependents it made ready;
 *   4. announce — `step.completed` / `step.failed` is emitted.
 *
 * Without a store step 2 is skipped and nothing is awaited: the in-memory path costs what it
 * did before stores existed. `execute()` and `run()` both go through here; `run()` passes `emit`.
 * The run's other jobs are in the files beside it, which read the fields not marked `private`.
 */
export class PipelineRun {
  readonly runId: string;
  readonly definition: PipelineDefinition;
  readonly graph: StepGraph;
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly runBudget: RunBudget;
  readonly emit: ((event: PipelineEvent) => void) | undefined;
  readonly durable: DurableRun | undefined;
  readonly scheduler: DependencyScheduler;
  /** Steps the scheduler admitted, launched in order (the scheduler appends here: no array per step). */
  readonly startQueue: IndexQueue;
  readonly table: RunStepTable;
  /** Where the run reads time and sets timers: its timings, and (through `cancelScope`) timeouts and backoffs. */
  readonly clock: Clock;
  /** Every attempt's scope and retry wait is a child: ending the run aborts them all, and no timer outlives it. */
  readonly cancelScope: CancelScope;
  /** What the executor sees of the run. */
  readonly scope: PipelineStepScope;
  /** The scheduler started (once). */
  started = false;
  /** Some step was handed to its executor or runner: a resume that ends before that changed nothing (see end-run.ts). */
  launchedSome = false;
  /** Aborts when the run starts no more steps (see {@link stopStarting}); made for the first task handed to a runner. */
  private stoppedStarting: AbortController | undefined;
  /** The run ended (completed, failed or cancelled): nothing more happens. */
  finished = false;
  /** A step returned an INCOMPLETE conversation state: nothing new starts; the run completes. */
  stoppedEarly = false;
  conversationState: ConversationState<unknown> | undefined;
  /** Failures that did not end the run (by step id), and the steps skipped because of them. */
  readonly errors: Record<string, Error> = {};
  readonly skipped: number[] = [];
  /** A failure that ends the run once running steps drained (with a store, `failFast: false`). */
  drainedFailure: StepExecutionError | undefined;
  /** The run's DI child container (class steps only): disposed when the run ends. */
  container: DependencyContainer | undefined;
  abortError: unknown;
  private readonly signal: AbortSignal | undefined;
  private readonly runner: StepRunner | undefined;
  /** The step table's timing readings, on the run's clock. */
  private readonly stepClock: RunClock;
  /** The run's outcome: settled by `finish` or `abortRun`, never by a tracer's span. */
  resolveRun: (result: PipelineResult<unknown>) => void = () => undefined;
  rejectRun: (error: unknown) => void = () => undefined;

  constructor(definition: PipelineDefinition, input: unknown, deps: unknown, options: PipelineRunOptions = {}) {
    const size = definition.graph.ids.length;
    this.definition = definition;
    this.graph = definition.graph;
    this.inputs = toInputRecord(input);
    this.deps = deps;
    this.tracer = definition.config.trace ? (options.tracer ?? NOOP_TRACER) : NOOP_TRACER;
    this.durable = options.durable;
    this.runner = options.runner;
    this.clock = options.clock ?? systemClock;
    this.cancelScope = CancelScope.root(undefined, this.clock);
    this.stepClock = new RunClock(this.clock);
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
    this.scope = new PipelineStepScope(this);
  }

  /** Runs the pipeline to its end. Call once. */
  execute(): Promise<PipelineResult<unknown>> {
    if (this.finished) return Promise.reject(this.abortError); // cancelled before it started
    const signal = this.signal;
    if (signal?.aborted) return rejectBeforeStart(this, new PipelineAbortedError(this.definition.name, signal.reason));
    try {
      const durable = this.durable;
      const instances = resolveStepInstances(this.definition, this.deps, this.tracer, durable === undefined ? undefined : (index) => durable.restores(index));
      this.scope.steps = instances.steps;
      this.container = instances.container;
    } catch (error) {
      return rejectBeforeStart(this, error);
    }
    const settled = new Promise<PipelineResult<unknown>>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
    });
    const onAbort = () => this.cancel(signal?.reason);
    try {
      // Listening before the first event: a pipeline.started handler may abort the signal.
      signal?.addEventListener('abort', onAbort, { once: true });
      const levels = this.graph.levels as string[][]; // frozen, shared: a chain has a level per step
      this.emit?.({ type: 'pipeline.started', pipeline: this.definition.name, runId: this.runId, levels });
      if (this.durable !== undefined && !this.finished) this.conversationState = restoreRecordedSteps(this, this.durable);
      // A handler may have cancelled the run (abort, unsubscribe): then nothing starts.
      if (!this.finished) {
        if (this.tracer === NOOP_TRACER) this.begin();
        else beginInPipelineSpan(this, this.definition.name, settled);
      }
    } catch (error) {
      // Whatever throws here (a signal-like object that is not one, a bug) still ends the run,
      // and a recorded run's record with it: a run never stays `running` with its lease renewed.
      this.abortRun(error);
    }
    if (signal === undefined) return settled;
    return settled.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Starts the scheduler: once, and not after the run ended. */
  begin(): void {
    if (this.started || this.finished) return;
    this.started = true;
    this.stepClock.begin();
    this.durable?.began();
    this.scheduler.start(this.startQueue);
    this.advance();
  }

  /** Cancels the run: running steps' signals abort, nothing new starts, the run rejects with `PipelineAbortedError`. */
  cancel(reason?: unknown): void {
    // An ended run has nothing to cancel (run()'s teardown cancels every run as its subscriber
    // completes): no error is made, nor its stack trace captured.
    if (this.finished) return;
    this.abortRun(new PipelineAbortedError(this.definition.name, reason));
  }

  /* A step's end: settle → record → admit → announce. */

  /** @param recorded the step's record when a runner wrote it already (see StepOutcome.recorded) */
  stepCompleted(index: number, output: unknown, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord): void {
    if (this.finished) return;
    this.settle(index, usage, attempts, recorded);
    this.table.outputs[index] = output;
    const durable = this.durable;
    if (durable === undefined) this.admitCompleted(index);
    else if (recorded !== undefined) this.stepRecorded(index, 'recorded', recorded);
    else recordStep(durable, this.graph, this.table, index, 'completed', output, usage ?? EMPTY_STEP_USAGE, undefined);
  }

  /**
   * @param recorded the step's record when a runner wrote it already (see StepOutcome.recorded);
   *   `null` when the runner, which records steps itself, failed before it said how the step
   *   ended: its worker may still record the step, so the run writes no record of its own
   */
  stepFailed(index: number, thrown: unknown, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord | null): void {
    if (this.finished) return;
    const stepUsage = usage ?? EMPTY_STEP_USAGE;
    const error = StepExecutionError.isInstance(thrown) ? thrown : new StepExecutionError(this.graph.ids[index], thrown, stepUsage);
    const durable = this.durable;
    if (this.failsFast()) {
      if (durable !== undefined && recorded === undefined) {
        // Recorded as any failed step (written before the run's final status): the store says which step failed, and what it cost.
        this.settle(index, usage, attempts);
        recordStep(durable, this.graph, this.table, index, 'failed', undefined, stepUsage, error);
      } else if (usage !== undefined) this.table.setUsage(this.graph.ids[index], usage);
      return this.failFast(index, error, stepUsage);
    }
    this.settle(index, usage, attempts, recorded ?? undefined);
    if (durable === undefined || recorded === null) return this.announceFailure(index, error);
    (this.table.pendingFailures ??= [])[index] = error;
    if (recorded !== undefined) this.stepRecorded(index, 'recorded', recorded);
    else recordStep(durable, this.graph, this.table, index, 'failed', undefined, stepUsage, error);
  }

  /** A runner took step `index` back before it started anywhere (the run had stopped starting steps): it never ran. */
  stepWithdrawn(index: number): void {
    if (this.finished) return;
    this.scheduler.withdraw(index);
    this.advance();
  }

  /** Nothing new starts (running steps finish): the scheduler stops, and runners may take back the tasks no worker started. */
  stopStarting(): void {
    this.scheduler.stop();
    this.stoppedStarting?.abort();
  }

  /** The signal of {@link stopStarting}, for the tasks handed to a runner. */
  get stopStartingSignal(): AbortSignal {
    if (this.stoppedStarting === undefined) {
      this.stoppedStarting = new AbortController();
      // Each waiting task of a runner listens to it: a wide fan-out adds more than Node's default of 10.
      setMaxListeners(0, this.stoppedStarting.signal);
    }
    return this.stoppedStarting.signal;
  }

  /** Steps running now, those waiting for their record included (the durable run batches by it). */
  runningSteps(): number {
    return this.scheduler.runningCount;
  }

  /** The record of step `index` was written (or refused): go on with the value the store holds. */
  stepRecorded(index: number, outcome: RecordOutcome, record: StepRecord): void {
    if (this.finished) return;
    // The record was awaited: the steps it admits start now, not when the step ended.
    this.stepClock.stale();
    if (outcome === 'stale-epoch') return this.abortRun(new RunLeaseLostError(this.runId, this.durable!.epoch));
    if (outcome !== 'duplicate') return record.status === 'failed' ? this.announceRecordedFailure(index) : this.admitCompleted(index);
    // Another writer recorded this step first (a retried batch, a racing worker): its record wins.
    this.durable!.adoptRecorded(index, record)
      .then((adopted) => {
        if (this.finished) return;
        const failures = this.table.pendingFailures;
        if (adopted.record.status === 'failed') {
          // Theirs failed where this attempt may have completed: their error is the step's.
          if (failures?.[index] === undefined) (this.table.pendingFailures ??= [])[index] = recordedStepError(adopted.record, this.table.usageOf(adopted.record.stepId));
          return this.announceRecordedFailure(index);
        }
        if (failures !== undefined) failures[index] = undefined;
        this.table.outputs[index] = adopted.output;
        this.admitCompleted(index);
      })
      .catch((error: unknown) => this.abortRun(error));
  }

  /** Settles a step's last attempt: when it ended (a runner's record: when and where it ran), attempts, usage. */
  private settle(index: number, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord): void {
    this.table.endMs[index] = this.stepClock.stepEnded();
    this.table.attempts[index] = attempts;
    if (usage !== undefined) this.table.setUsage(this.graph.ids[index], usage);
    if (recorded !== undefined) {
      this.table.startMs[index] = this.durable!.msSinceBegan(recorded.startedAt);
      this.table.endMs[index] = this.durable!.msSinceBegan(recorded.endedAt);
      this.table.setWorkerId(index, recorded.workerId);
    }
  }

  /** Admits a completed step's dependents, then announces it (an INCOMPLETE conversation state stops the run). */
  private admitCompleted(index: number): void {
    const output = this.table.outputs[index];
    let stopsRun = false;
    if (output instanceof ConversationState && !this.stoppedEarly && this.drainedFailure === undefined) {
      this.conversationState = output;
      stopsRun = output.status === ConversationStatus.INCOMPLETE;
    }
    if (stopsRun) {
      this.stoppedEarly = true;
      this.stopStarting();
    }
    this.scheduler.complete(index, this.startQueue);
    const emit = this.emit;
    if (emit !== undefined) {
      emit(stepCompletedEvent(this.graph, this.table, index, false));
      if (stopsRun) emit({ type: 'pipeline.stopped', conversationState: output as ConversationState<unknown> });
    }
    this.advance();
  }

  private announceRecordedFailure(index: number): void {
    const error = this.table.pendingFailures![index]!;
    this.table.pendingFailures![index] = undefined;
    this.announceFailure(index, error);
  }

  /** A step failed for good (settled, and recorded with a store): skip its dependents, or drain the run. */
  private announceFailure(index: number, error: StepExecutionError): void {
    // A failure found at its record (an output the store cannot hold, another writer's failed
    // record) fails fast as a thrown one does.
    if (this.failsFast()) return this.failFast(index, error, this.table.usageOf(this.graph.ids[index]));
    announceStepFailure(this, index, error);
    this.advance();
  }

  /** True when a failure now ends the run at once: without a store, or with `failFast` (else it drains). */
  private failsFast(): boolean {
    return failureEndsRun(this) && (this.durable === undefined || this.definition.config.failFast);
  }

  /** Fails fast: the stream says which step failed, then the run aborts (running steps too) with the same error. */
  private failFast(index: number, error: StepExecutionError, usage: StepUsage): void {
    this.emit?.(stepFailedEvent(this.graph, index, error, usage));
    this.abortRun(error);
  }

  /** Reports completed levels, launches what the scheduler admitted, and finishes the run when nothing is left. */
  private advance(): void {
    // A run that is failing (draining its running steps, onError 'fail') completes no more
    // levels: the failed step's dependents it skipped never ran.
    if (this.emit !== undefined && this.drainedFailure === undefined) {
      for (const level of this.scheduler.takeCompletedLevels()) {
        // The graph's own (frozen) array: event payloads are read-only, and a chain has a level per step.
        this.emit({ type: 'level.completed', level, stepIds: this.graph.levels[level] as string[] });
      }
    }
    const queue = this.startQueue;
    // `launch` never admits anything synchronously (a step's end is handled a microtask later,
    // or in a recorded run only queues its record: see attemptEndedSoon), so this loop is not
    // re-entered; only a subscriber cancelling the run from an event handler can end the run here.
    for (let i = 0; i < queue.count && !this.finished; i++) this.launch(queue.items[i]);
    queue.count = 0;
    if (!this.finished && this.scheduler.isIdle) this.finish();
  }

  private launch(index: number): void {
    this.table.startMs[index] = this.stepClock.stepStarts();
    const emit = this.emit;
    const runner = this.runner;
    // A remote runner reports the start itself, when (and where) the step really starts.
    if (emit !== undefined && (runner === undefined || runner.reportsStepStarts !== true)) {
      emit({ type: 'step.started', stepId: this.graph.ids[index], level: this.graph.levelOf[index], attempt: 1 });
      if (this.finished) return; // its handler cancelled the run
    }
    this.launchedSome = true;
    if (runner === undefined) executeStep(this.scope, index);
    else runOnRunner(this, runner, index);
  }

  /* Ending (see end-run.ts). */

  private finish(): void {
    finishRun(this);
  }

  /** Ends the run with `error`: running steps abort, nothing new starts, the run rejects (a store's failure, a lost lease). */
  abortRun(error: unknown): void {
    abortRunWith(this, error);
  }
}
