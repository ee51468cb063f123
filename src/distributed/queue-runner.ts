import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { StepExecutionError } from '../errors/step-execution-error';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { WorkerLostError } from '../errors/worker-lost-error';
import type { StepOutcome, StepTask } from '../executor/run-step-task';
import type { StepRunner } from '../executor/step-runner';
import { decodeValue } from '../store/decode-value';
import { pushesRecords, WATCH_RETRY_MS, type RecordWatch } from '../store/record-pusher';
import type { RunStore, StepRecord } from '../store/run-store';
import { StepUsage, reportsUsage } from '../usage/step-usage';
import { supersededRecord } from '../store/superseded-record';
import { callStore } from '../durable/call-store';
import { recordOutcomesMismatch } from '../store/record-outcomes-mismatch';
import { AbortWatch } from './abort-watch';
import { fingerprintDigest } from './fingerprint-digest';
import { loadBullmq } from './load-bullmq';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, queueChannels, type QueueChannels } from './queue-channels';
import { pushedKeyOf, pushedRecordOf } from './pushed-step-record';
import { checkQueueRunnerOptions } from './check-distributed-options';
import { bullConnection, isRedisClient, ownConnection, type RedisConnection } from './redis-connection-options';
import { IdleConnections } from './idle-connections';
import type { StepJobData, StepJobResult } from './step-job-data';
import { StepJobAdder } from './step-job-adder';
import { stepJobId } from './step-job-id';
import { samePlannedGenerations } from './planned-generations';
import { StepReconciler } from './step-reconciler';
import { StepRecordReader } from './step-record-reader';
import { parseChannelMessage, type CancelStepMessage, type StepProgressMessage, type StepsEndedMessage } from './step-worker-message';
import { storedErrorToError } from '../store/stored-error-to-error';
import { activeTraceParent } from './trace-parent';
import { progressPosition, type WaitingStep } from './waiting-step';

/** How a worker's refusal of a job's pipeline begins: it has another version of it, or none. */
const WORKER_REFUSED_PIPELINE = /^Worker '.*' has (another version of|no) pipeline '/s;

/** Options of a {@link QueueRunner}. */
export interface QueueRunnerOptions {
  /** The Redis of the queue: ioredis options, or a client to share (the runner never closes a client it was given). */
  connection: RedisConnection;
  /** @default 'fastroai-steps' (workers must use the same) */
  queueName?: string;
  /** BullMQ's key prefix. @default 'bull' (workers must use the same) */
  prefix?: string;
  /**
   * How often steps still waiting are looked up in the store (and their jobs in the queue), in
   * ms: the workers' messages only wake the caller up and can be lost, the store says when a step ended.
   * Steps are also read sooner when no wake-up came for a while (250 ms, doubling up to this interval).
   * @default 2000
   */
  reconcileIntervalMs?: number;
}

/**
 * Runs a run's steps on a BullMQ queue (API.md §13): the caller keeps the scheduler, each
 * ready step becomes a job (`runId-stepId-generation`, see {@link stepJobId}, attempts 1: the
 * executor retries) that any worker ({@link createStepWorker}) runs and records in the run's
 * store. The runner learns that a step ended from the store: the workers' wake-up messages
 * (Redis pub/sub, one per batch of records, and one per failed job: see {@link queueChannels})
 * only wake it up, and it reconciles ({@link StepReconciler}: every `reconcileIntervalMs`, and
 * sooner when no wake-up came for a while), so lost messages never hang a run. A store that
 * pushes the records it writes first (RecordPusher: RedisRunStore; PostgresRunStore with
 * `pushRecords`) settles their steps with the push itself, and they are not read; while the
 * runner hears those pushes its jobs say so (`pushesHeard`), and a worker whose store tells what
 * it pushed (RedisRunStore) sends no wake-up for those records. The steps ready in
 * one tick are added in bulk ({@link StepJobAdder}), the records woken in one tick read in one
 * call per run ({@link StepRecordReader}).
 * Workers' `step.started`, `step.retrying` and `call.retrying` reach the run's events through a
 * Redis pub/sub channel; cancelling the run aborts the remote steps' signals.
 *
 * A store is required (the run's records are how steps travel). The caller's deps are not sent:
 * workers build their own (`createStepWorker({ deps })`).
 *
 * @example
 * const runner = new QueueRunner({ connection: { host: '127.0.0.1', port: 6379 } });
 * const result = await pipeline.execute(input, undefined, { store, runner });
 * await runner.close();
 */
export class QueueRunner implements StepRunner {
  /** Workers report each step's start (with their `workerId`): the run does not at launch. */
  readonly reportsStepStarts = true;
  /** Steps travel through the run's store: a run without one is refused before it starts. */
  readonly requiresStore = true;
  readonly queueName: string;
  readonly prefix: string;
  private readonly queue: Queue<StepJobData, StepJobResult>;
  private readonly subscriber: Redis;
  private readonly channels: QueueChannels;
  private readonly reconcileIntervalMs: number;
  private readonly waiting = new Map<string, WaitingStep>();
  /** How many steps of each run wait (pushes of other runs are not parsed). */
  private readonly waitingRuns = new Map<string, number>();
  private readonly jobs: StepJobAdder;
  private readonly records = new StepRecordReader();
  private readonly cancels = new AbortWatch<WaitingStep>((waiting, reason) => this.cancel(waiting, reason));
  /** The runs that stop starting steps (StepTask.stopStarting): their waiting steps are taken back. */
  private readonly stopsStarting = new AbortWatch<WaitingStep>((waiting) => void this.withdraw(waiting));
  private readonly reconciler: StepReconciler;
  /** The pushes of records this runner watches, by store (see watchPushes). */
  private readonly watches = new Map<RunStore, Promise<RecordWatch | undefined>>();
  /** The stores whose pushes this runner hears now (a watch that listens). */
  private readonly heardStores = new Set<RunStore>();
  /** The subscription to the workers' channels, asked for at construction (see the constructor). */
  private readonly subscribed: Promise<void>;
  private ready: Promise<void> | undefined;
  private closed = false;
  /** Its own connections, which keep the process alive only while a step waits. */
  private readonly connections = new IdleConnections();

  constructor(options: QueueRunnerOptions) {
    checkQueueRunnerOptions(options);
    const { Queue } = loadBullmq('QueueRunner');
    this.queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.reconcileIntervalMs = options.reconcileIntervalMs ?? 2_000;
    const connection = bullConnection(options.connection);
    this.queue = new Queue<StepJobData, StepJobResult>(this.queueName, { connection, prefix: this.prefix });
    this.jobs = new StepJobAdder(this.queue);
    this.reconciler = new StepReconciler(
      {
        queue: this.queue,
        jobs: this.jobs,
        queueName: this.queueName,
        waitingSteps: () => this.waiting.values(),
        settle: (waiting, record) => this.settle(waiting, record),
        // A step being taken back has no job any more: it ends withdrawn (or from its record), not as lost.
        fail: (waiting, error) => {
          if (waiting.withdrawing !== true) this.fail(waiting, error);
        },
        jobFailure: (waiting, failedReason) => this.jobFailure(waiting, failedReason),
      },
      this.reconcileIntervalMs,
    );
    this.subscriber = ownConnection(options.connection, 'QueueRunner');
    this.connections.add(this.subscriber);
    // The queue's client is ours only when BullMQ made it from options (a given client is shared).
    if (!isRedisClient(options.connection)) this.queue.client.then((client) => this.connections.add(client), () => undefined);
    this.channels = queueChannels(this.prefix, this.queueName);
    // Connection trouble is retried by ioredis and BullMQ; steps then wait (or reconcile).
    this.queue.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channels.ended) this.ended(message);
      else if (channel === this.channels.progress) this.progress(message);
    });
    // Subscribed now, while the connection is still connecting: ioredis sends it once the
    // connection is ready. Sent later, it could go out between the connect and the end of
    // ioredis's ready check, which it then fails: the reconnect that follows loses the
    // subscription, and the runner would hear no worker (steps then settled by reconciliation only,
    // and the workers' progress events lost).
    this.subscribed = this.subscriber.subscribe(this.channels.progress, this.channels.ended).then(() => undefined);
    this.subscribed.catch(() => undefined); // reported by start(), to the run that waits for it
  }

  runStep(task: StepTask): Promise<StepOutcome> {
    const durable = task.durable;
    if (durable === undefined) {
      return Promise.reject(new PipelineValidationError(`QueueRunner needs a store: pass { store } to execute/run/resume (workers read and record steps there)`));
    }
    if (this.closed) return Promise.reject(new Error('QueueRunner is closed'));
    const jobId = stepJobId(task.runId, task.stepId, durable.generation);
    const data: StepJobData = {
      runId: task.runId,
      stepId: task.stepId,
      generation: durable.generation,
      pipeline: durable.pipeline,
      fingerprintDigest: fingerprintDigest(durable.fingerprint),
      epoch: durable.epoch,
    };
    if (durable.ancestorGenerations !== undefined) data.generations = durable.ancestorGenerations;
    if (task.onAttempt === undefined) data.progress = false;
    const traceparent = activeTraceParent();
    if (traceparent !== undefined) data.traceparent = traceparent;
    return new Promise<StepOutcome>((resolve) => {
      const waiting: WaitingStep = {
        jobId,
        task,
        durable,
        data,
        // A resume looks at the job in the queue first (adopt): until then its messages are not taken.
        adopting: durable.epoch > 1 ? 'adopting' : undefined,
        enqueuedAt: Date.now(),
        resolve,
        added: false,
        progress: 0,
        ended: false,
        reading: false,
        again: false,
      };
      this.waiting.set(jobId, waiting);
      this.connections.setStepsWait(true);
      this.waitingRuns.set(task.runId, (this.waitingRuns.get(task.runId) ?? 0) + 1);
      this.listenForCancel(waiting);
      if (waiting.ended) return;
      this.listenForStopStarting(waiting);
      this.start()
        .then(() => this.watchPushes(durable.store))
        .then(() => {
          if (this.heardStores.has(durable.store)) data.pushesHeard = true;
          return durable.epoch > 1 ? this.adopt(waiting) : true;
        })
        .then((add) => {
          const missed = waiting.adopting === 'missed';
          waiting.adopting = undefined;
          if (!add || waiting.ended) return;
          // Taken back before its job was sent (the run stopped starting steps meanwhile): a new job is not added at all.
          if (waiting.withdrawOnceAdded === true && durable.epoch === 1) return this.end(waiting, withdrawnOutcome(waiting));
          // A job with this id in the queue already (a caller that crashed added it) is not added again: adopted.
          return this.jobs.add(task.stepId, waiting.data, waiting.jobId).then(() => {
            waiting.added = true;
            if (waiting.withdrawOnceAdded === true) return this.withdraw(waiting);
            // A message about the job came while it was being adopted: its record may be in the
            // store, or (the job adopted failed meanwhile) the step fails without one.
            const failure = waiting.missedFailure;
            if (failure !== undefined && failure.jobId === waiting.jobId) this.readRecord(waiting, () => this.fail(waiting, this.jobFailure(waiting, failure.reason)));
            else if (missed) this.readRecord(waiting);
          });
        })
        .catch((error: unknown) => {
          waiting.adopting = undefined;
          this.fail(waiting, error);
        });
    });
  }

  /** Stops waiting (steps still waiting fail), and closes the queue's connections. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    // Its connections keep the process up until they are closed (a step may wait no more).
    return this.connections.hold(this.closeConnections());
  }

  private async closeConnections(): Promise<void> {
    this.reconciler.stop();
    // Their jobs go too (a worker would run a step its run recorded as failed): removed, or
    // aborted where running; best effort, not awaited (Redis may be the reason it closes).
    const closed = new Error('QueueRunner was closed while the step was waiting');
    for (const waiting of [...this.waiting.values()]) void this.cancel(waiting, closed);
    await this.queue.close().catch(() => undefined);
    this.subscriber.disconnect();
    for (const watching of this.watches.values()) void watching.then((watch) => watch?.close());
  }

  /** Connects once: the queue, the workers' channels (progress, wake-ups), and the reconciliation timer. */
  private start(): Promise<void> {
    this.ready ??= (async () => {
      await Promise.all([this.queue.waitUntilReady(), this.subscribed]);
      this.reconciler.start();
    })();
    return this.ready;
  }

  /**
   * A resumed run (epoch > 1) may find its step's job in the queue: kept by BullMQ after a
   * caller that crashed, or cancelled, or whose worker refused it. Resolves true when the job is
   * to be added (adding a job whose id is in the queue adopts it), false when the step is settled
   * from the store:
   * - waiting: adopted, brought to this epoch (its data: a worker then reads the run as the resume
   *   left it). (A worker that takes it between the two calls runs it at the old epoch: the
   *   window is narrowed, not closed.)
   * - made by a caller that planned other generations of the step's ancestors (a resume that
   *   reruns an ancestor of a step in flight), running or finished: what it does or did reads
   *   other outputs than this run's. It is cancelled if it runs, and the step moves to the next
   *   generation (another job id), looked at in turn.
   * - running: adopted.
   * - finished with the step's record: settled from it.
   * - finished without one (cancelled, or failed): removed, so the step runs again.
   */
  private async adopt(waiting: WaitingStep): Promise<boolean> {
    for (;;) {
      const state = await this.queue.getJobState(waiting.jobId);
      if (waiting.ended) return false;
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') {
        // Adopted while it waits: it carries the crashed caller's epoch, and its worker would run it
        // on a view of the run from before this resume (a resume's new input unseen).
        const job = await this.queue.getJob(waiting.jobId);
        await job?.updateData(waiting.data);
        return true;
      }
      if (state !== 'active' && state !== 'completed' && state !== 'failed') return true;
      const job = await this.queue.getJob(waiting.jobId);
      if (waiting.ended) return false;
      if (job !== undefined && !samePlannedGenerations(job.data, waiting.data)) {
        // Superseded first: a caller that lost the run (stale epoch) fails here, and leaves the job to its new owner.
        const jobId = waiting.jobId;
        await this.supersede(waiting);
        if (waiting.ended) return false;
        if (state === 'active') void this.publishCancel(jobId, Number(job.data?.epoch), 'a resume of its run reruns a step whose output it reads');
        this.moveToNextGeneration(waiting);
        continue;
      }
      // Adopted while it runs: its data stays the dead caller's (its `pushesHeard` too: a wake-up
      // it leaves out for a push this runner does not hear is found by the reconciliation).
      if (state === 'active') return true;
      const { task, durable } = waiting;
      const record = await this.records.read(durable.store, task.runId, { stepId: task.stepId, generation: durable.generation });
      if (record !== undefined) {
        this.settle(waiting, record);
        return false;
      }
      await this.queue.remove(waiting.jobId);
      // The job whose failure may have come meanwhile is gone: the one added now is another.
      waiting.missedFailure = undefined;
      return true;
    }
  }

  /**
   * True when a message about the step's job (a record pushed, a wake-up, a failure) comes while
   * a resume adopts it: it may be about the job of a dead caller that read other generations
   * (see {@link adopt}), so it is not taken; once the job is added, its record is read.
   */
  private missedWhileAdopting(waiting: WaitingStep): boolean {
    if (waiting.adopting === undefined) return false;
    waiting.adopting = 'missed';
    return true;
  }

  /**
   * Takes the step's record at its job's generation with a failed one saying it was superseded,
   * before the step moves to the next (see {@link adopt}): the old job, were it still to record
   * that generation (the cancel is a message), gets `duplicate`, and a later resume that finds no
   * record of the next generation runs the step again rather than restore the old job's output.
   * A record there already (the old job's) stays: first write wins.
   */
  private async supersede(waiting: WaitingStep): Promise<void> {
    const { task, durable } = waiting;
    const record = supersededRecord(task.stepId, durable.generation, waiting.jobId, Date.now());
    const outcomes = await callStore(durable.store, task.runId, () => durable.store.recordSteps(task.runId, durable.epoch, [record]));
    const mismatch = recordOutcomesMismatch(outcomes, 1);
    if (mismatch !== undefined) throw mismatch;
    // Another caller claimed the run: the step is not this one's to move (the run stops with the lease lost).
    if (outcomes[0] === 'stale-epoch') throw new RunLeaseLostError(task.runId, durable.epoch);
  }

  /** The step runs at the generation after its job's (see {@link adopt}): another job id, its record another key. */
  private moveToNextGeneration(waiting: WaitingStep): void {
    const { task } = waiting;
    const generation = waiting.durable.generation + 1;
    if (this.waiting.get(waiting.jobId) === waiting) this.waiting.delete(waiting.jobId);
    waiting.jobId = stepJobId(task.runId, task.stepId, generation);
    waiting.durable = { ...waiting.durable, generation };
    waiting.data = { ...waiting.data, generation };
    this.waiting.set(waiting.jobId, waiting);
  }

  /** Asks the workers to stop the step of job `jobId` of the run's `epoch` (best effort: resolves once Redis answered, or failed). */
  private publishCancel(jobId: string, epoch: number, reason: string): Promise<void> {
    const message: CancelStepMessage = { jobId, epoch, reason };
    return this.queue.client.then((client) => (client as unknown as Redis).publish(this.channels.cancel, JSON.stringify(message))).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Cancelling the run (its signal) ends the step here and asks the workers to abort it. */
  private listenForCancel(waiting: WaitingStep): void {
    const signal = waiting.task.signal;
    if (signal !== undefined) waiting.unlisten = this.cancels.watch(signal, waiting);
  }

  /** The run stops starting steps (a failure drains it, a step stopped it): a job no worker took yet is taken back. */
  private listenForStopStarting(waiting: WaitingStep): void {
    const signal = waiting.task.stopStarting;
    if (signal === undefined) return;
    // One listener per run's signal, not per step (see AbortWatch).
    const unlistenStop = this.stopsStarting.watch(signal, waiting);
    const unlistenCancel = waiting.unlisten;
    waiting.unlisten = () => {
      unlistenCancel?.();
      unlistenStop();
    };
  }

  /**
   * Takes the step's job back when no worker took it yet: removed from the queue while it waits
   * there, the step ends `withdrawn` (it never ran: the run counts it as not started, a resume
   * runs it). A job a worker holds cannot be removed (its lock): that step runs to its end and
   * is recorded, as a running step of a run in one process would. Best effort: the step waits
   * on when Redis does not answer. A removal also takes a job that a worker took and finished
   * between the look and the removal (no lock is left then): the step's record is read first,
   * and a step that has one is settled from it; only a step without one ends withdrawn.
   */
  private async withdraw(waiting: WaitingStep): Promise<void> {
    if (waiting.ended || waiting.progress > 0) return;
    if (!waiting.added) {
      // Not sent yet: left out of the next bulk. Else (being adopted, or sent) taken back once it is in the queue.
      if (this.jobs.drop(waiting.jobId)) this.end(waiting, withdrawnOutcome(waiting));
      else waiting.withdrawOnceAdded = true;
      return;
    }
    try {
      const state = await this.queue.getJobState(waiting.jobId);
      if (waiting.ended || waiting.progress > 0 || !WAITING_JOB_STATES.has(state)) return;
      // From the removal on, a reconciliation that finds the job gone leaves the step to this.
      waiting.withdrawing = true;
      if ((await this.queue.remove(waiting.jobId)) !== 1) {
        waiting.withdrawing = false;
        return;
      }
    } catch {
      waiting.withdrawing = false;
      return;
    }
    this.readRecord(waiting, () => this.end(waiting, withdrawnOutcome(waiting)));
  }

  /**
   * The step's run was cancelled: the step fails with the reason, its job is dropped, or removed,
   * or its worker asked to abort it. Not when the run lost its lease: another caller resumed it
   * and adopted its jobs, which are that caller's now; nor when the store failed (the lease
   * could not be renewed either).
   */
  private cancel(waiting: WaitingStep, reason: unknown): Promise<void> {
    this.fail(waiting, reason);
    this.jobs.drop(waiting.jobId);
    // The run lost its lease (or could not renew it: the store failed): a resume may own these jobs now.
    if (RunLeaseLostError.isInstance(reason) || StoreUnavailableError.isInstance(reason)) return Promise.resolve();
    const published = this.publishCancel(waiting.jobId, waiting.durable.epoch, reason instanceof Error ? reason.message : String(reason));
    // A job no worker took yet goes away (a locked one cannot be removed: its worker aborts it).
    const removed = this.queue.remove(waiting.jobId).catch(() => undefined);
    // Sent as the step ends: the process stays up until they are answered.
    return this.connections.hold(Promise.all([published, removed]).then(() => undefined));
  }

  /** A worker's progress message: reported to the step's run (the step is still waiting). */
  private progress(text: string): void {
    const message = parseChannelMessage<StepProgressMessage>(text);
    if (message === undefined) return;
    const waiting = this.waiting.get(message.jobId);
    if (waiting === undefined || waiting.ended) return;
    if (!Number.isInteger(message.attempt) || message.attempt < 1) return;
    if (message.type === 'step.started' || message.type === 'step.retrying') {
      // Only what moves the step on: a worker that took the step over from a dead one repeats
      // attempts the run was told of already (an in-process run starts each attempt once).
      const position = progressPosition(message.type, message.attempt);
      if (position <= waiting.progress) return;
      waiting.progress = position;
    } else if (message.type !== 'call.retrying') {
      return; // not a progress message
    }
    // A `call.retrying` counts the model call's attempts: each one is news, a taken-over step's too.
    const onAttempt = waiting.task.onAttempt;
    if (message.type === 'step.started') onAttempt?.({ type: 'step.started', attempt: message.attempt, workerId: message.workerId });
    else onAttempt?.({ type: message.type, attempt: message.attempt, error: storedErrorToError(message.error), delaySeconds: message.delaySeconds });
  }

  /** A worker's wake-up: the records of these jobs are in the store (read them), or a job failed. */
  private ended(text: string): void {
    const message = parseChannelMessage<StepsEndedMessage>(text);
    if (message === undefined) return;
    if ('recorded' in message && Array.isArray(message.recorded)) {
      this.reconciler.heard();
      for (const jobId of message.recorded) {
        const waiting = this.waiting.get(jobId);
        if (waiting === undefined || this.missedWhileAdopting(waiting)) continue;
        // A record its store did not push (too large), or a store that pushes without telling which
        // (PostgreSQL): a push, sent before its writer heard back (part of the write), is not read
        // ahead of; it is read only if no push came in this turn of the event loop.
        if (this.watches.has(waiting.durable.store)) setImmediate(() => this.readRecord(waiting));
        else this.readRecord(waiting);
      }
    } else if ('failed' in message && typeof message.failed === 'string') {
      this.jobFailed(message.failed, String(message.reason));
    }
  }

  /** The job failed (a worker refused it, or it stalled too often): the step fails, unless the store has its record. */
  private jobFailed(jobId: string, failedReason: string): void {
    this.reconciler.heard();
    const waiting = this.waiting.get(jobId);
    if (waiting === undefined) return;
    if (this.missedWhileAdopting(waiting)) {
      waiting.missedFailure = { jobId, reason: failedReason };
      return;
    }
    this.readRecord(waiting, () => this.fail(waiting, this.jobFailure(waiting, failedReason)));
  }

  private jobFailure(waiting: WaitingStep, failedReason: string | undefined): Error {
    const reason = failedReason ?? 'no reason given';
    if (/stalled more than allowable limit/i.test(reason)) return new WorkerLostError(waiting.task.stepId, `its job '${waiting.jobId}' stalled too often (${reason})`);
    const message = `job '${waiting.jobId}' failed on the queue '${this.queueName}': ${reason}`;
    // A worker's refusal of the pipeline (StepJobProcessor.pipelineOf): the job keeps only its
    // message (a wake-up's reason, or BullMQ's failedReason when reconciled), known by its start.
    return WORKER_REFUSED_PIPELINE.test(reason) ? new PipelineValidationError(message) : new Error(message);
  }

  /** Reads the step's record; settles the step when the store has it, else calls `missing`. */
  private readRecord(waiting: WaitingStep, missing?: () => void): void {
    if (waiting.ended) return;
    if (waiting.reading && missing === undefined) {
      waiting.again = true;
      return;
    }
    waiting.reading = true;
    const { task, durable } = waiting;
    this.records.read(durable.store, task.runId, { stepId: task.stepId, generation: durable.generation }).then(
      (record) => {
        waiting.reading = false;
        if (record !== undefined) this.settle(waiting, record);
        else if (missing !== undefined) missing();
        else if (waiting.again) {
          waiting.again = false;
          this.readRecord(waiting);
        }
      },
      (error: unknown) => {
        waiting.reading = false;
        this.fail(waiting, error);
      },
    );
  }

  /** The step ended as the store recorded it (a record that does not decode fails the step). */
  private settle(waiting: WaitingStep, record: StepRecord): void {
    if (waiting.ended) return;
    let outcome: StepOutcome;
    try {
      outcome = outcomeOf(record);
    } catch (error) {
      this.fail(waiting, error);
      return;
    }
    this.settleWith(waiting, outcome, record);
  }

  /**
   * Records that `store` pushed as it wrote them first (RecordPusher): the steps waiting for them
   * end with them, not read. One that is not a record, or does not decode, is left to the
   * reconciliation (its worker sends no wake-up for a record its store pushed).
   */
  private pushed(store: RunStore, runId: string, records: readonly unknown[]): void {
    // Records flow (a worker sends no wake-up for a record its store pushed): quiet rounds wait again.
    this.reconciler.heard();
    for (const value of records) {
      const key = pushedKeyOf(value);
      if (key === undefined) continue;
      const { stepId, generation } = key;
      const waiting = this.waiting.get(stepJobId(runId, stepId, generation));
      // Another store may hold a run of the same id.
      if (waiting === undefined || waiting.durable.store !== store || this.missedWhileAdopting(waiting)) continue;
      const record = pushedRecordOf(value, stepId, generation);
      if (record !== undefined) this.settlePushed(waiting, record);
    }
  }

  /**
   * Watches `store`'s pushes of records, once per store (RecordPusher), before the first job
   * whose record it writes is added. A store that cannot be watched (its Redis is down) is not:
   * its records are read.
   */
  private watchPushes(store: RunStore): Promise<void> {
    if (!pushesRecords(store)) return Promise.resolve();
    let watching = this.watches.get(store);
    if (watching === undefined) {
      watching = store.watchRecords(
        (runId, records) => this.pushed(store, runId, records),
        (runId) => this.waitingRuns.has(runId),
      ).then(
        (watch) => {
          if (this.closed) watch.close();
          else this.heardStores.add(store);
          return watch;
        },
        () => {
          // Not watched: its records are read. Tried again a while later, not for each step.
          setTimeout(() => {
            if (this.watches.get(store) === watching) this.watches.delete(store);
          }, WATCH_RETRY_MS).unref();
          return undefined;
        },
      );
      this.watches.set(store, watching);
    }
    return watching.then(() => undefined);
  }

  /** The step ended as the store pushed its record; unless that does not decode (the reconciliation's read settles it then). */
  private settlePushed(waiting: WaitingStep, record: StepRecord): void {
    let outcome: StepOutcome;
    try {
      outcome = outcomeOf(record);
    } catch {
      return;
    }
    this.settleWith(waiting, outcome, record);
  }

  private settleWith(waiting: WaitingStep, outcome: StepOutcome, record: StepRecord): void {
    if (waiting.ended) return;
    // Its start message may have been lost (pub/sub is best effort): a step is always seen to start.
    if (waiting.progress === 0) waiting.task.onAttempt?.({ type: 'step.started', attempt: 1, workerId: record.workerId });
    this.end(waiting, outcome);
  }

  private fail(waiting: WaitingStep, error: unknown): void {
    if (waiting.ended) return;
    // No worker reported its start (it refused the job, or none took it): a step is always seen to start.
    if (waiting.progress === 0) waiting.task.onAttempt?.({ type: 'step.started', attempt: 1 });
    this.end(waiting, { status: 'failed', error, usage: undefined, attempts: 1, startedAt: waiting.enqueuedAt, endedAt: Date.now() });
  }

  private end(waiting: WaitingStep, outcome: StepOutcome): void {
    if (waiting.ended) return;
    waiting.ended = true;
    waiting.unlisten?.();
    if (this.waiting.get(waiting.jobId) === waiting) this.waiting.delete(waiting.jobId);
    if (this.waiting.size === 0) this.connections.setStepsWait(false);
    const runId = waiting.task.runId;
    const left = (this.waitingRuns.get(runId) ?? 1) - 1;
    if (left > 0) this.waitingRuns.set(runId, left);
    else this.waitingRuns.delete(runId);
    // Moved to a later generation (see adopt): the run records the step, and plans its dependents, at it.
    if (waiting.durable.generation !== waiting.task.durable!.generation) outcome.generation = waiting.durable.generation;
    waiting.resolve(outcome);
  }
}

/** The outcome of a step taken back before any worker started it. */
function withdrawnOutcome(waiting: WaitingStep): StepOutcome {
  return { status: 'withdrawn', usage: undefined, attempts: 0, startedAt: waiting.enqueuedAt, endedAt: Date.now() };
}

/** The states of a job that no worker holds yet. */
const WAITING_JOB_STATES: ReadonlySet<string> = new Set(['waiting', 'delayed', 'prioritized', 'waiting-children']);

/** A step's outcome as its record tells it. @throws when the record's output or usage does not decode */
function outcomeOf(record: StepRecord): StepOutcome {
  const usage = reportsUsage(record.usage) ? new StepUsage(record.usage) : undefined;
  let error = record.error === undefined ? undefined : storedErrorToError(record.error);
  // A nested pipeline's failure the step threw: re-thrown as it is, carrying what the step was billed.
  if (StepExecutionError.isInstance(error) && usage !== undefined) error = new StepExecutionError(error.stepId, error.originalError, usage);
  return {
    status: record.status,
    output: record.output === undefined ? undefined : decodeValue(record.output),
    error,
    usage,
    attempts: record.attempts,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    recorded: record,
  };
}
