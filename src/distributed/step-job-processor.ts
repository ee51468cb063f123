import { context } from '@opentelemetry/api';
import type { Job } from 'bullmq';
import { callStore } from '../durable/call-store';
import { usageFieldsOf } from '../durable/durable-run';
import { describeFingerprintChange } from '../durable/fingerprint-of';
import { StoreRunBudget } from '../durable/store-run-budget';
import { storedErrorOf } from '../durable/stored-error-of';
import { FastroAIError } from '../errors/fastroai-error';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { StepExecutionError } from '../errors/step-execution-error';
import { CancelScope } from '../executor/cancel-scope';
import { formatIdList } from '../graph/format-id-list';
import { runStepTaskIn, type ExecutedStepOutcome } from '../executor/run-step-task';
import { encodeValue } from '../store/encode-value';
import type { RecordOutcome, RunStore, StepRecord } from '../store/run-store';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import { OpenTelemetryTracer } from '../tracing/open-telemetry-tracer';
import type { Tracer } from '../tracing/tracer';
import { EMPTY_STEP_USAGE } from '../usage/step-usage';
import { pushedKeyOf, pushedRecordOf } from './pushed-step-record';
import { JobLockWatch } from './job-lock-watch';
import { plannedGenerationsOf, type PlannedGenerations } from './planned-generations';
import { LockFencedBudget } from './lock-fenced-budget';
import { resolveStepInstance } from './resolve-step-instance';
import type { StepJobData, StepJobResult } from './step-job-data';
import { parseStepJobId, stepJobId, type StepJobKey } from './step-job-id';
import type { StepProgressMessage, StepsEndedMessage } from './step-worker-message';
import { contextOfTraceParent } from './trace-parent';
import type { WorkerPipeline } from './worker-pipeline';
import { WorkerRecordBatcher } from './worker-record-batcher';
import { WorkerRunCache } from './worker-run-cache';

/** What a processor needs from its worker. */
export interface StepJobProcessorOptions {
  workerId: string;
  pipelines: Map<string, WorkerPipeline>;
  store: RunStore;
  lockDuration: number;
  tracer: Tracer | undefined;
  /** Builds a run's deps: called once per run on this worker (cached with the run's view). */
  deps: ((run: { runId: string; pipeline: string }) => unknown) | undefined;
  /** Sends a progress message to the run's caller (best effort): resolves once Redis answered (or failed). */
  publish: (message: StepProgressMessage) => Promise<void>;
  /** Wakes the callers up (best effort, not awaited): these jobs' records are in the store. */
  ended: (message: StepsEndedMessage) => void;
}

/** A job this worker runs right now. */
interface ActiveJob {
  readonly pipeline: string;
  /** Aborts the step (cancelled by the caller, lock lost, run budget spent): its ctx.signal, timers and calls. */
  readonly scope: CancelScope;
  lock: JobLockWatch | undefined;
  /** The caller cancelled it: nothing is recorded. */
  cancelled: boolean;
  /** Its last progress message, answered: the job ends after it, so the caller sees its messages before its completion. */
  published: Promise<void>;
}

/** True for a job a worker takes again: BullMQ moved it back from a worker that stalled or died. */
function isRetaken(job: Job): boolean {
  return job.stalledCounter > 0 || job.attemptsStarted > 1;
}

/** How many job ids cancelled before they started a worker remembers (the oldest are forgotten). */
const CANCELLED_BEFORE_START_KEPT = 10_000;

/** A cancelled job as {@link StepJobProcessor.cancel} remembers it: its id at the run's epoch. */
function cancelledJobKey(jobId: string, epoch: number): string {
  return `${epoch}:${jobId}`;
}

/** How many times a record refused for a stale epoch (the run was claimed again) is written again at the new epoch. */
const STALE_EPOCH_RETRIES = 3;

/**
 * Runs the step of one job, on a worker, as a run in one process would (API.md §13): refuses a
 * job of a pipeline it does not have or whose graph differs; reads the run's input and the
 * step's dependency outputs from the store; runs the step with the same executor (timeouts,
 * retries, `runCostBudget` through `store.addRunCost`, hooks, DI with the worker's deps, the
 * `step.<id>` span under the caller's trace); and records the step's output in the store itself.
 *
 * The record's fences:
 * - first write wins per (runId, stepId, generation): a step recorded already (by a worker
 *   that ran the job before, or that raced this one) is not run again, and a second record is
 *   refused by the store;
 * - the job lock: a worker that lost its lock (its event loop blocked past `lockDuration`)
 *   has its step's signal aborted, its further `ctx.run` calls refused, and writes no record;
 *   right before the record is written the lock is known valid for at least half its duration
 *   (extended in Redis when the step took longer: {@link JobLockWatch.confirm}), and checked
 *   again right before its batch is sent;
 * - group commit: the records of one run that this worker's jobs end in the same tick go to the
 *   store in one `recordSteps` call ({@link WorkerRecordBatcher}), each job with its own answer,
 *   and their job ids to the callers in one wake-up message (`ended`), once the store has them
 *   (but those its store pushed, to callers that hear its pushes);
 * - the epoch: a record is written at the run's epoch as the store holds it (read again when
 *   the store answers `stale-epoch`): a caller that crashed and was replaced by a resume (a new
 *   epoch) keeps the records of the steps that were in flight. The epoch fences callers (one
 *   scheduler per run); workers are fenced by the generation and the job lock.
 */
export class StepJobProcessor {
  private readonly cache: WorkerRunCache;
  private readonly batcher: WorkerRecordBatcher;
  private readonly active = new Map<string, ActiveJob>();
  /** Jobs cancelled while this worker did not run them (`cancelledJobKey`), oldest first (most never come here: another worker runs them, or they were removed). */
  private readonly cancelledBeforeStart = new Set<string>();

  constructor(private readonly options: StepJobProcessorOptions) {
    this.cache = new WorkerRunCache(options.store);
    this.batcher = new WorkerRecordBatcher(options.store, (runId, records) =>
      options.ended({ recorded: records.map((record) => stepJobId(runId, record.stepId, record.generation)) }),
    );
  }

  /** BullMQ renewed these jobs' locks with a request sent at `sentAtMs` (see {@link JobLockWatch.renewed}). */
  locksRenewed(jobIds: readonly string[], sentAtMs: number): void {
    for (const jobId of jobIds) this.active.get(jobId)?.lock?.renewed(sentAtMs);
  }

  /** BullMQ could not renew these jobs' locks: they are lost. */
  lockRenewalFailed(jobIds: readonly string[]): void {
    for (const jobId of jobIds) this.active.get(jobId)?.lock?.lost('its job lock could not be renewed');
  }

  /**
   * The caller cancelled the step of this job (its run was cancelled or failed fast). A job this
   * worker does not run (yet) is remembered with the run's `epoch` the caller cancelled it at:
   * the caller removes a cancelled job from the queue too, but a worker may take it between the
   * message and the removal, and must then not run it (a resume adds it again at a later epoch,
   * and that one runs). Without an epoch (a message that has none) only a running job is stopped.
   */
  cancel(jobId: string, reason: string, epoch?: number): void {
    const job = this.active.get(jobId);
    if (job === undefined) {
      if (typeof epoch !== 'number') return;
      const kept = this.cancelledBeforeStart;
      kept.add(cancelledJobKey(jobId, epoch));
      if (kept.size > CANCELLED_BEFORE_START_KEPT) kept.delete(kept.values().next().value!);
      return;
    }
    job.cancelled = true;
    job.scope.abort(new PipelineAbortedError(job.pipeline, reason));
  }

  /**
   * A worker's wake-up (this one's included): these jobs' records are in the store. A record
   * that readies a step of a run this worker holds, and that it does not hold itself (another
   * worker wrote it), is read now: the caller reads it too, then enqueues the step, and when
   * the step comes here its dependency's output is here already (a chain through two workers
   * alternates between them: one store read less on each step's path). Trade-off: every worker
   * holding the run reads such a record, whichever of them gets the step (unless its store
   * pushed it: see {@link pushed}).
   */
  recorded(jobIds: readonly unknown[]): void {
    for (const jobId of jobIds) {
      const key = typeof jobId === 'string' ? parseStepJobId(jobId) : undefined;
      if (key !== undefined) this.takeAhead(key, undefined);
    }
  }

  /** True when this worker may use pushed records of run `runId` (it holds the run, at its first epoch, and some step depends on another): the others are not parsed. */
  wantsPushesOf(runId: string): boolean {
    const view = this.cache.peek(runId);
    return view !== undefined && view.run.epoch === 1 && this.options.pipelines.get(view.run.pipeline)?.hasDependencies === true;
  }

  /**
   * Records of run `runId` that the store pushed as it wrote them first (a store that pushes
   * them, see RecordPusher): one that readies a step of a run this worker holds is taken into
   * its view, as from {@link recorded}, and not read.
   */
  pushed(runId: string, records: readonly unknown[]): void {
    for (const record of records) {
      const key = pushedKeyOf(record);
      if (key !== undefined) this.takeAhead({ runId, ...key }, record);
    }
  }

  /**
   * The record of `key`, when it readies a step of a run this worker holds and its view lacks it:
   * taken from `pushed` (what its store pushed) when that is the record and decodes, else read ahead.
   */
  private takeAhead(key: StepJobKey, pushed: unknown): void {
    const view = this.cache.peek(key.runId);
    // A resumed run's jobs read the run afresh (see WorkerRunCache.read): nothing to read ahead
    // for them. A view of a run's first epoch holds generation 1 only (no step was rerun).
    if (view === undefined || view.run.epoch !== 1 || key.generation !== 1 || view.has(key.stepId, key.generation)) return;
    const pipeline = this.options.pipelines.get(view.run.pipeline);
    if (pipeline === undefined || !pipeline.readiesADependent(key.stepId, (stepId) => view.isCompleted(stepId))) return;
    const record = pushed === undefined ? undefined : pushedRecordOf(pushed, key.stepId, key.generation);
    if (record === undefined || !view.addPushed(record)) this.cache.prefetch(view, key.stepId, key.generation);
  }

  async process(job: Job<StepJobData, StepJobResult>, token: string | undefined): Promise<StepJobResult> {
    const { workerId } = this.options;
    const data = job.data;
    const pipeline = await this.pipelineOf(data);
    const definition = pipeline.definition;
    const index = definition.graph.indexOf.get(data.stepId)!;
    const jobId = job.id!;
    const active: ActiveJob = { pipeline: data.pipeline, scope: CancelScope.root(), lock: undefined, cancelled: false, published: Promise.resolve() };
    this.active.set(jobId, active);
    if (this.cancelledBeforeStart.delete(cancelledJobKey(jobId, data.epoch))) {
      this.active.delete(jobId);
      return { outcome: 'cancelled', workerId };
    }
    const lock = new JobLockWatch(job, token ?? '', data.stepId, this.options.lockDuration, (error) => active.scope.abort(error));
    active.lock = lock;
    let dispose = () => undefined as void;
    try {
      const ancestors = pipeline.ancestorIdsOf(index);
      const generationOf = plannedGenerationsOf(data);
      const { view, fresh } = await this.cache.read(data.runId, data.epoch, ancestors, generationOf);
      // A job taken again (its worker died or stalled after it may have recorded the step) asks
      // the store about its own record: the view may have been read before that record (cached,
      // or a whole-run read shared with jobs that came earlier).
      if (!view.has(data.stepId, data.generation) && isRetaken(job)) await this.cache.readRecord(view, data.stepId, data.generation);
      if (view.has(data.stepId, data.generation)) {
        // Recorded already (by a worker that ran the job before, or raced this one): not run again.
        this.options.ended({ recorded: [jobId] });
        return { outcome: 'duplicate', workerId };
      }
      if (fresh && view.run.status === 'aborted') return { outcome: 'cancelled', workerId };
      // A step must not run on missing inputs, nor take its record (the first wins), while an
      // ancestor has no completed record at the generation the job's run plans (exactly that one:
      // after a resume, a job of an earlier epoch may write a later generation of a step the run
      // restored). The caller enqueues a step once the store has its dependencies' records, so
      // such a job was not enqueued by it, or this worker has another store: the job fails, naming
      // them. A view that was not read for this job (`fresh` false) was checked by `read` already.
      if (fresh && !view.hasCompleted(ancestors, generationOf)) {
        const { indexOf } = definition.graph;
        const missing = ancestors.filter((id) => !view.isCompleted(id, generationOf(id))).sort((a, b) => indexOf.get(a)! - indexOf.get(b)!);
        throw ancestorsNotRecorded(data, missing.map((id) => ({ id, generation: generationOf(id) })));
      }
      const store = this.options.store;
      const buildDeps = this.options.deps;
      const deps = buildDeps === undefined ? undefined : await this.cache.depsOf(data.runId, () => buildDeps({ runId: data.runId, pipeline: data.pipeline }));
      const runCostBudget = definition.config.runCostBudget;
      // With a run budget, the run's spent total as the store holds it now (other workers' charges included).
      const spent = runCostBudget === null ? view.run.costMicrocents : await callStore(store, data.runId, () => store.addRunCost(data.runId, 0));
      const budget = new StoreRunBudget(runCostBudget, spent, store, data.runId, (error) => active.scope.abort(error));
      const tracer = definition.config.trace ? (this.options.tracer ?? defaultTracerOf(data)) : NOOP_TRACER;
      const instance = resolveStepInstance(definition, index, deps, tracer);
      dispose = instance.dispose;
      const dependencyOutputs: Record<string, unknown> = {};
      for (const id of ancestors) dependencyOutputs[id] = view.outputOf(id, generationOf(id));
      // A run without listeners (data.progress false) gets no progress messages.
      const publish = data.progress === false ? undefined : this.options.publish;
      if (publish !== undefined) active.published = publish({ jobId, type: 'step.started', attempt: 1, workerId });
      // Cancelled, or the lock lost, while the step was being prepared (the run read, deps built): it does not start.
      if (active.cancelled) return { outcome: 'cancelled', workerId };
      if (lock.error !== undefined) throw lock.error;
      const outcome = await context.with(contextOfTraceParent(data.traceparent), () =>
        runStepTaskIn(
          {
            runId: data.runId,
            stepId: data.stepId,
            step: instance.step,
            config: definition.configs[index],
            inputs: view.input,
            dependencyOutputs,
            deps,
            tracer,
            runBudget: new LockFencedBudget(budget, lock),
            onAttempt: (event) => {
              if (publish === undefined) return;
              if (event.type === 'step.started') active.published = publish({ jobId, type: 'step.started', attempt: event.attempt, workerId });
              else active.published = publish({ jobId, type: event.type, attempt: event.attempt, error: storedErrorOf(event.error), delaySeconds: event.delaySeconds });
            },
          },
          active.scope,
        ),
      );
      await budget.settled();
      if (active.cancelled) return { outcome: 'cancelled', workerId };
      if (lock.error !== undefined) throw lock.error;
      const record = this.recordOf(data, outcome);
      // The record and the last progress message's answer, in parallel (the publish was sent long before).
      const [answer] = await Promise.all([this.write(data, record, lock, ancestors, generationOf), active.published]);
      return { outcome: answer, workerId };
    } finally {
      lock.stop();
      // Its own entry only: the same worker may have taken the job again meanwhile (it stalled here).
      if (this.active.get(jobId) === active) this.active.delete(jobId);
      dispose();
    }
  }

  /** The worker's pipeline of the job. @throws PipelineValidationError when it has none of that name, or another graph */
  private async pipelineOf(data: StepJobData): Promise<WorkerPipeline> {
    const { workerId, pipelines } = this.options;
    const pipeline = pipelines.get(data.pipeline);
    const where = `step '${data.stepId}' of run '${data.runId}'`;
    if (pipeline === undefined) {
      throw new PipelineValidationError(
        `Worker '${workerId}' has no pipeline '${data.pipeline}' (it has ${[...pipelines.keys()].map((name) => `'${name}'`).join(', ')}): it cannot run ${where}`,
      );
    }
    if (pipeline.fingerprintDigest !== data.fingerprintDigest) {
      // The job carries a digest: what changed is told from the caller's fingerprint in the run's record.
      const callers = await this.callerFingerprintOf(data);
      const changes = callers === undefined ? [] : describeFingerprintChange(callers, pipeline.fingerprint);
      throw new PipelineValidationError(
        `Worker '${workerId}' has another version of pipeline '${data.pipeline}' than the caller (fingerprint ${pipeline.fingerprint} on the worker, ${callers ?? `digest ${data.fingerprintDigest}`} on the caller): it cannot run ${where}` +
          (changes.length === 0 ? '' : `; the worker's graph ${changes.join('; ')}`),
      );
    }
    return pipeline;
  }

  /** The caller's fingerprint, as the run's record holds it (undefined when the store cannot tell: only the error message misses it). */
  private async callerFingerprintOf(data: StepJobData): Promise<string | undefined> {
    try {
      const stored = await this.options.store.getRun(data.runId);
      return stored?.run.fingerprint;
    } catch {
      return undefined;
    }
  }

  /** The step's record, as a run in one process would write it (an output the store cannot hold fails the step). */
  private recordOf(data: StepJobData, outcome: ExecutedStepOutcome): StepRecord {
    const usage = usageFieldsOf(outcome.usage ?? EMPTY_STEP_USAGE);
    const record: StepRecord = {
      stepId: data.stepId,
      generation: data.generation,
      status: outcome.status,
      usage,
      attempts: outcome.attempts,
      startedAt: outcome.startedAt,
      endedAt: outcome.endedAt,
      workerId: this.options.workerId,
    };
    if (outcome.status === 'failed') {
      record.error = storedErrorOf(outcome.error, data.stepId);
      return record;
    }
    try {
      record.output = encodeValue(outcome.output, data.stepId);
    } catch (notStorable) {
      record.status = 'failed';
      record.error = storedErrorOf(new StepExecutionError(data.stepId, notStorable));
    }
    return record;
  }

  /**
   * Writes the record while holding the job's lock, at the run's current epoch, with the records
   * of this tick. Refused at a stale epoch (a resume claimed the run), it is written again at the
   * new one, unless a resume reran one of the step's ancestors since (a later generation than
   * this job read is in the store): the record was made from an output the run may no longer
   * have, and is dropped (`cancelled`: a caller that adopted the job runs it again).
   */
  private async write(
    data: StepJobData,
    record: StepRecord,
    lock: JobLockWatch,
    ancestors: readonly string[],
    generationOf: PlannedGenerations,
  ): Promise<'recorded' | 'duplicate' | 'cancelled'> {
    const { store } = this.options;
    let epoch = data.epoch;
    for (let tries = 0; ; tries++) {
      if (!(await lock.confirm())) throw lock.error;
      const answer: RecordOutcome = await this.batcher.record(data.runId, epoch, record, lock, data.pushesHeard === true);
      if (answer === 'recorded') {
        this.cache.remember(data.runId, record);
        return answer;
      }
      if (answer === 'duplicate') return answer;
      if (tries >= STALE_EPOCH_RETRIES) throw new Error(`the store refused the record of step '${data.stepId}' of run '${data.runId}' at epoch ${epoch} (stale) ${tries + 1} times`);
      const stored = await callStore(store, data.runId, () => store.getRun(data.runId));
      // Dropped as a cancelled job's: a caller that adopted the job adds it again (StepReconciler).
      if (stored !== undefined && rerunAncestor(stored.steps, ancestors, generationOf) !== undefined) return 'cancelled';
      epoch = stored?.run.epoch ?? epoch;
    }
  }
}

/** A job refused because the store has no completed record of some of its step's ancestors (`missing`, in declaration order) at their planned generations, whose outputs it may read. */
function ancestorsNotRecorded(data: StepJobData, missing: readonly { id: string; generation: number }[]): FastroAIError {
  const later = missing.filter(({ generation }) => generation !== 1);
  const generations = later.length === 0 ? '' : ` (generation ${later.map(({ id, generation }) => (missing.length === 1 ? generation : `${generation} of '${id}'`)).join(', ')})`;
  const which =
    missing.length === 1
      ? `step '${missing[0].id}'${generations}, whose output it may read`
      : `steps ${formatIdList(missing.map(({ id }) => id))}${generations}, whose outputs it may read`;
  return new FastroAIError(`Step '${data.stepId}' of run '${data.runId}' was not run: the store has no completed record of ${which}`);
}

/** The first of `ancestors` with a record of a later generation than `generationOf` plans for it, if any. */
function rerunAncestor(records: readonly StepRecord[], ancestors: readonly string[], generationOf: PlannedGenerations): string | undefined {
  if (ancestors.length === 0) return undefined;
  const wanted = new Set(ancestors);
  for (const record of records) {
    if (wanted.has(record.stepId) && record.generation > generationOf(record.stepId)) return record.stepId;
  }
  return undefined;
}

/** The OpenTelemetry tracer of the process's global provider (a no-op until one is registered). */
let globalOpenTelemetryTracer: OpenTelemetryTracer | undefined;

/**
 * A worker's tracer when it was given none: a job that carries the caller's trace context
 * (`traceparent`: an OpenTelemetry span was active in the caller as it enqueued the step, the
 * run's `pipeline.<name>` span or one of the caller's around the run) continues that trace with the
 * process's global OpenTelemetry provider, so a step's span is a child of the caller's
 * `pipeline.<name>` span wherever the worker registered a provider (API.md §13); no trace
 * context, no spans (as a run given no tracer).
 */
function defaultTracerOf(data: StepJobData): Tracer {
  if (data.traceparent === undefined) return NOOP_TRACER;
  return (globalOpenTelemetryTracer ??= new OpenTelemetryTracer());
}
