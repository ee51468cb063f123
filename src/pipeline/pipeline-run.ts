import { randomUUID } from 'node:crypto';
import type { DependencyContainer } from 'tsyringe';
import type { StepConfig } from '../config/step-config';
import { LocalRunBudget, type RunBudget } from '../context/run-budget';
import { ConversationState, ConversationStatus } from '../conversation/conversation-state';
import type { DurableRun } from '../durable/durable-run';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { StepExecutionError, toError } from '../errors/step-execution-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { CancelScope } from '../executor/cancel-scope';
import { executeStep } from '../executor/execute-step';
import type { StepRunScope } from '../executor/step-run-scope';
import type { StepRunner } from '../executor/step-runner';
import { isAncestor } from '../graph/is-ancestor';
import type { StepGraph } from '../graph/step-graph';
import { DependencyScheduler, StepState } from '../scheduler/dependency-scheduler';
import { IndexQueue } from '../scheduler/index-queue';
import type { StepLike } from '../steps/base-step';
import type { RecordOutcome, StepRecord } from '../store/run-store';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import type { Tracer } from '../tracing/tracer';
import { EMPTY_STEP_USAGE, type StepUsage } from '../usage/step-usage';
import { beginInPipelineSpan } from './begin-in-pipeline-span';
import { buildPipelineResult } from './build-pipeline-result';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import type { PipelineResult } from './pipeline-result';
import { recordStep } from './record-step';
import { disposeRunContainer, resolveStepInstances } from './resolve-step-instances';
import { restoreRecordedSteps } from './restore-recorded-steps';
import { runOnRunner } from './run-on-runner';
import { RunStepTable } from './run-step-table';
import { stepCompletedEvent, stepFailedEvent } from './step-end-events';
import { SyncEndTrampoline } from './sync-end-trampoline';
import { toInputRecord } from './to-input-record';

const GO_ON = (): boolean => true;
const STOP = (): boolean => false;

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
 * One run of a pipeline: it starts, takes each step's end through this protocol, and finishes.
 *
 *   1. settle   — the step's timings and usage go into the step table;
 *   2. record   — with a store, its record is written (a batch per tick) and awaited;
 *   3. admit    — the scheduler starts the dependents it made ready;
 *   4. announce — `step.completed` / `step.failed` is emitted.
 *
 * Without a store step 2 is skipped and nothing is awaited: the in-memory path costs what it
 * did before stores existed. `execute()` and `run()` both go through here; `run()` passes `emit`.
 * The run's other jobs live beside it, and read the fields not marked `private`: a resume's
 * records (restore-recorded-steps.ts), the tracer's span (begin-in-pipeline-span.ts), a step
 * on a runner (run-on-runner.ts), synchronous ends (sync-end-trampoline.ts), a step's record
 * (record-step.ts), its events (step-end-events.ts) and the result (build-pipeline-result.ts).
 */
export class PipelineRun implements StepRunScope {
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
  readonly table: RunStepTable;
  /** Every attempt's scope and retry wait is a child: ending the run aborts them all, and no timer outlives it. */
  readonly cancelScope: CancelScope = CancelScope.root();
  isAborted = false;
  /** A step returned an INCOMPLETE conversation state: nothing new starts, and the run completes. */
  stoppedEarly = false;
  conversationState: ConversationState<unknown> | undefined;
  /** Failures under `onError: 'continue'`, by step id, and the steps skipped because of them. */
  readonly errors: Record<string, Error> = {};
  readonly skipped: number[] = [];
  private readonly signal: AbortSignal | undefined;
  private readonly runner: StepRunner | undefined;
  /** Steps the scheduler admitted, launched in order (the scheduler appends here: no array per step). */
  private readonly startQueue: IndexQueue;
  private readonly syncEnds: SyncEndTrampoline;
  private steps: readonly StepLike[] = [];
  /** The run's DI child container (class steps only): disposed when the run ends. */
  private container: DependencyContainer | undefined;
  /** A failure that ends the run once running steps drained (durable runs, `failFast: false`). */
  private drainedFailure: StepExecutionError | undefined;
  private abortError: unknown;
  /** The last clock reading (ms since the run started), reusable while no step code ran since. */
  private clockMs = 0;
  private clockFresh = true;
  private started = false;
  private finished = false;
  private startedAtMs = 0;
  /** The run's outcome: settled by `finish` or `abortRun`, never by a tracer's span. */
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
    this.syncEnds = new SyncEndTrampoline(this, this.table);
  }

  /* Starting. */

  /** Runs the pipeline to its end. Call once. */
  execute(): Promise<PipelineResult<unknown>> {
    if (this.finished) return Promise.reject(this.abortError); // cancelled before it started
    const signal = this.signal;
    if (signal?.aborted) return this.endBeforeStart(new PipelineAbortedError(this.definition.name, signal.reason));
    try {
      const instances = resolveStepInstances(this.definition, this.deps, this.tracer);
      this.steps = instances.steps;
      this.container = instances.container;
    } catch (error) {
      return this.endBeforeStart(error);
    }
    const settled = new Promise<PipelineResult<unknown>>((resolve, reject) => {
      this.resolveRun = resolve;
      this.rejectRun = reject;
    });
    const onAbort = () => this.cancel(signal?.reason);
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
    if (signal === undefined) return settled;
    return settled.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** Starts the scheduler: once, and not after the run ended. */
  begin(): void {
    if (this.started || this.finished) return;
    this.started = true;
    this.startedAtMs = performance.now();
    this.durable?.began();
    this.scheduler.start(this.startQueue);
    this.advance();
  }

  /** Cancels the run: running steps' signals abort, nothing new starts, the run rejects with `PipelineAbortedError`. */
  cancel(reason?: unknown): void {
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

  /** @param recorded the step's record when a runner wrote it already (see StepOutcome.recorded) */
  stepFailed(index: number, thrown: unknown, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord): void {
    if (this.finished) return;
    const stepUsage = usage ?? EMPTY_STEP_USAGE;
    const error = StepExecutionError.isInstance(thrown) ? thrown : new StepExecutionError(this.graph.ids[index], thrown, stepUsage);
    const durable = this.durable;
    if (this.failureEndsRun() && (durable === undefined || this.definition.config.failFast)) {
      // Fail fast: the stream says which step failed, then errors with the same error.
      this.emit?.(stepFailedEvent(this.graph, index, error, stepUsage));
      this.abortRun(error);
      return;
    }
    this.settle(index, usage, attempts, recorded);
    if (durable === undefined) return this.announceFailure(index, error);
    (this.table.pendingFailures ??= [])[index] = error;
    if (recorded !== undefined) this.stepRecorded(index, 'recorded', recorded);
    else recordStep(durable, this.graph, this.table, index, 'failed', undefined, stepUsage, error);
  }

  /** The record of step `index` was written (or refused): go on with the value the store holds. */
  stepRecorded(index: number, outcome: RecordOutcome, record: StepRecord): void {
    if (this.finished) return;
    if (outcome === 'stale-epoch') return this.abortRun(new RunLeaseLostError(this.runId, this.durable!.epoch));
    if (outcome !== 'duplicate') return record.status === 'failed' ? this.announceRecordedFailure(index) : this.admitCompleted(index);
    // Another writer recorded this step first (a retried batch, a racing worker): its record wins.
    this.durable!.adoptRecorded(index, record).then((adopted) => {
      if (this.finished) return;
      if (adopted.status === 'failed') return this.announceRecordedFailure(index);
      this.table.outputs[index] = adopted.output;
      this.admitCompleted(index);
    }, (error: unknown) => this.abortRun(error));
  }

  /** Settles a step's last attempt: when it ended (a runner's record: when and where it ran), attempts, usage. */
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
      this.scheduler.stop();
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

  /**
   * A step failed for good (settled, and recorded with a store). Under `onError: 'continue'`
   * (or after an INCOMPLETE stop) its dependents are skipped and the rest goes on; under
   * `'fail'` with a store, nothing new starts, running steps drain and are recorded, and the
   * run rejects once they have.
   */
  private announceFailure(index: number, error: StepExecutionError): void {
    const id = this.graph.ids[index];
    if (this.failureEndsRun()) {
      this.drainedFailure = error;
      this.scheduler.stop();
      this.emit?.(stepFailedEvent(this.graph, index, error, this.table.usageOf(id)));
      this.scheduler.fail(index);
    } else if (this.drainedFailure !== undefined) {
      // A sibling failing while the run drains: recorded, and the run's error stays the first one.
      this.scheduler.fail(index);
    } else {
      this.errors[id] = error;
      this.emit?.(stepFailedEvent(this.graph, index, error, this.table.usageOf(id)));
      for (const skippedIndex of this.scheduler.fail(index)) {
        this.skipped.push(skippedIndex);
        this.emit?.({ type: 'step.skipped', stepId: this.graph.ids[skippedIndex], reason: `dependency '${id}' failed` });
      }
      this.scheduler.next(this.startQueue);
    }
    this.advance();
  }

  /** True while a failure ends the run: `onError: 'fail'`, no INCOMPLETE stop, no failure draining already. */
  private failureEndsRun(): boolean {
    return !this.stoppedEarly && this.drainedFailure === undefined && this.definition.config.onError === 'fail';
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
    else runOnRunner(this, runner, index);
  }

  /* Finishing. */

  private finish(): void {
    this.finished = true;
    if (this.container !== undefined) disposeRunContainer(this.container);
    const failure = this.drainedFailure;
    if (failure !== undefined) {
      const reject = () => this.rejectRun(failure);
      this.durable!.end('failed', failure).then(reject, reject);
      return;
    }
    const result = buildPipelineResult(this);
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

  /** Ends the run with `error`: running steps abort, nothing new starts, the run rejects (a store's failure, a lost lease). */
  abortRun(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.isAborted = true;
    this.abortError = error;
    this.scheduler.stop();
    this.cancelScope.abort(error);
    if (this.container !== undefined) disposeRunContainer(this.container);
    if (this.durable === undefined) return this.rejectRun(error);
    // After a lost lease or a failing store, nothing more is written (it would be refused or fail).
    const writable = !RunLeaseLostError.isInstance(error) && !StoreUnavailableError.isInstance(error);
    const reject = () => this.rejectRun(error);
    this.durable.end(PipelineAbortedError.isInstance(error) ? 'aborted' : 'failed', error, writable).then(reject, reject);
  }

  /** Rejects before anything ran (a store's run record is still ended: aborted or failed). */
  private endBeforeStart(error: unknown): Promise<PipelineResult<unknown>> {
    this.finished = true;
    if (this.durable === undefined) return Promise.reject(error);
    const reject = () => Promise.reject(error);
    return this.durable.end(PipelineAbortedError.isInstance(error) ? 'aborted' : 'failed', error).then(reject, reject);
  }

  /** True once the run ended (finished, failed or cancelled). */
  get hasEnded(): boolean {
    return this.finished;
  }

  get hasBegunOrEnded(): boolean {
    return this.started || this.finished;
  }

  /* What the executor reads (StepRunScope) and a step's context sees (StepRunView). */

  stepAt(index: number): StepLike {
    return this.steps[index];
  }

  configAt(index: number): StepConfig {
    return this.definition.configs[index];
  }

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
    this.syncEnds.push(index, ok, outcome, usage, attempt);
  }
}
