import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pipeline } from '../pipeline/pipeline';
import type { RunStore } from '../store/run-store';
import type { Tracer } from '../tracing/tracer';
import { checkStepWorkerOptions } from './check-distributed-options';
import { loadBullmq } from './load-bullmq';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, queueChannels, type QueueChannels } from './queue-channels';
import { bullConnection, ownConnection, type RedisConnection } from './redis-connection-options';
import type { StepJobData, StepJobResult } from './step-job-data';
import { pushesRecords, WATCH_RETRY_MS, type RecordPusher, type RecordWatch } from '../store/record-pusher';
import { StepJobProcessor } from './step-job-processor';
import { parseChannelMessage, type CancelStepMessage, type StepProgressMessage, type StepsEndedMessage } from './step-worker-message';
import { watchLockRenewals } from './watch-lock-renewals';
import { workerPipelinesOf } from './worker-pipeline';

/** Options of {@link createStepWorker}. */
export interface StepWorkerOptions {
  /** The pipelines whose steps this worker runs (by name; the caller's graph must be the same). */
  pipelines: Pipeline<any, any, any>[];
  /** The store the callers record their runs in (shared across processes: SQLite file, Redis, PostgreSQL). */
  store: RunStore;
  /** The Redis of the queue: ioredis options, or a client to share. */
  connection: RedisConnection;
  /** @default 'fastroai-steps' */
  queueName?: string;
  /** BullMQ's key prefix. @default 'bull' */
  prefix?: string;
  /** Steps this worker runs at once. @default 1 (BullMQ's) */
  concurrency?: number;
  /**
   * How long a job's lock lasts unless renewed (BullMQ renews it every half), in ms. A worker
   * killed mid-step has its step picked up by another worker within `lockDuration + 2 ×
   * stalledInterval`. A worker whose event loop blocks may lose the step from about half of it
   * on: the worker holds a lock good until its last renewal was sent + `lockDuration`, less a
   * margin of `min(1 s, lockDuration / 5)`, and a block that starts just before a renewal
   * delays that renewal (4 s at the default; 300 ms at 1 s). Shorter recovers sooner; longer
   * tolerates longer synchronous stretches in steps (and GC pauses). @default 10_000
   */
  lockDuration?: number;
  /** How often this worker looks for stalled jobs (of dead workers), in ms. @default 5_000 */
  stalledInterval?: number;
  /** How often a job may stall (its worker died) before it fails with WorkerLostError. @default 1 */
  maxStalledCount?: number;
  /**
   * Builds the deps of a run's steps on this worker (`ctx.deps`, the `DEPS` token): the caller's
   * are not sent. Called once per run on this worker: the steps of a run that this worker runs
   * share them (kept with the run's cached view; the 64 most recently used runs are kept, an
   * older one's deps are built again if another of its steps comes). A build that throws fails
   * that step, and the run's next step builds them again.
   */
  deps?: (run: { runId: string; pipeline: string }) => unknown | Promise<unknown>;
  /** The worker's id on events, timings and records. @default `<hostname>:<pid>` */
  name?: string;
  /**
   * Traces the steps this worker runs; with OpenTelemetry, a step's span is a child of the
   * caller's `pipeline.<name>` span. @default an `OpenTelemetryTracer` on the process's global
   * provider for jobs that carry the caller's trace context (the OpenTelemetry span active in the
   * caller as it enqueued the step: its `pipeline.<name>` span, or one of the caller's around the
   * run), none for the others
   */
  tracer?: Tracer;
}

/** A running step worker. */
export interface StepWorker {
  /** Its `workerId`. */
  readonly name: string;
  /** Resolves once it is connected and takes jobs. */
  waitUntilReady(): Promise<void>;
  /** Stops taking jobs, waits for the running ones to end, and closes its connections (not a client it was given, nor the store). */
  close(): Promise<void>;
  /** Connection and job errors (a lost lock's refused completion included); without a listener they are printed with `console.warn`. */
  on(event: 'error', listener: (error: Error) => void): this;
}

/**
 * Starts a worker process's share of distributed runs (API.md §13): takes step jobs from the
 * queue (`QueueRunner` enqueues them), runs each with the same executor as an in-process run,
 * and records its output in `store`. See {@link StepJobProcessor} for what it refuses and how
 * records are fenced.
 *
 * @example
 * const worker = createStepWorker({ pipelines: [pipeline], store: new SqliteRunStore({ path }), connection: { host: '127.0.0.1', port: 6379 } });
 * process.on('SIGTERM', () => void worker.close());
 */
export function createStepWorker(options: StepWorkerOptions): StepWorker {
  return new QueueStepWorker(options);
}

class QueueStepWorker extends EventEmitter implements StepWorker {
  readonly name: string;
  private readonly worker: Worker<StepJobData, StepJobResult>;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channels: QueueChannels;
  private readonly ready: Promise<void>;
  private closing: Promise<void> | undefined;
  private watch: RecordWatch | undefined;

  constructor(options: StepWorkerOptions) {
    super();
    checkStepWorkerOptions(options);
    const pipelines = workerPipelinesOf(options.pipelines);
    const { Worker: BullWorker } = loadBullmq('createStepWorker');
    const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const lockDuration = options.lockDuration ?? 10_000;
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.channels = queueChannels(prefix, queueName);
    // Not auto-pipelined (even when the given client is): ioredis would hold each message until
    // the next turn of the event loop, and a chain waits for every wake-up (1-worker chain of 200
    // steps: 3.8 → 3.1 ms a step, A/B on this machine). Messages still go out without waiting for
    // each other's replies.
    this.publisher = ownConnection(options.connection, 'createStepWorker', { enableAutoPipelining: false });
    this.subscriber = ownConnection(options.connection, 'createStepWorker');
    this.publisher.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    const processor = new StepJobProcessor({
      workerId: this.name,
      pipelines,
      store: options.store,
      lockDuration,
      tracer: options.tracer,
      deps: options.deps,
      publish: (message) => this.publish(this.channels.progress, message),
      ended: (message) => void this.publish(this.channels.ended, message),
    });
    // Two parameters, not three: BullMQ then makes no AbortController per job (`processorAcceptsSignal`).
    // Its signal only carries `worker.cancelJob`, which this wrapper never calls: callers cancel
    // through the cancel channel, and a lost lock aborts through the JobLockWatch.
    try {
      this.worker = new BullWorker<StepJobData, StepJobResult>(queueName, (job, token) => processor.process(job, token), {
        connection: bullConnection(options.connection),
        prefix,
        concurrency: options.concurrency ?? 1,
        lockDuration,
        stalledInterval: options.stalledInterval ?? 5_000,
        maxStalledCount: options.maxStalledCount ?? 1,
        name: this.name,
      });
    } catch (error) {
      // Refused by BullMQ: the connections opened for it would keep the process alive.
      this.subscriber.disconnect();
      this.publisher.disconnect();
      throw error;
    }
    this.worker.on('error', (error) => this.report(error));
    // A job that failed (refused: another graph, no such pipeline) wakes its caller up, which fails the step.
    this.worker.on('failed', (job, error) => {
      if (job?.id !== undefined) void this.publish(this.channels.ended, { failed: job.id, reason: error.message });
    });
    watchLockRenewals(this.worker, { renewed: (jobIds, sentAtMs) => processor.locksRenewed(jobIds, sentAtMs), failed: (jobIds) => processor.lockRenewalFailed(jobIds) });
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channels.cancel) {
        const message = parseChannelMessage<CancelStepMessage>(text);
        if (message !== undefined) processor.cancel(message.jobId, message.reason, message.epoch);
      } else if (channel === this.channels.ended) {
        // The workers' wake-ups reach the workers too: a record that readies a step is read ahead.
        const message = parseChannelMessage<StepsEndedMessage>(text);
        if (message !== undefined && 'recorded' in message && Array.isArray(message.recorded)) processor.recorded(message.recorded);
      }
    });
    // Records that ready a step are read ahead (from the wake-ups), or taken from the pushes of a
    // store that pushes its records (RecordPusher) as they are written: by a worker with a
    // pipeline whose steps depend on others. One without (fan-outs only) listens to neither: it
    // would only parse every other worker's messages.
    const readsAhead = [...pipelines.values()].some((pipeline) => pipeline.hasDependencies);
    const store = options.store;
    const watched = readsAhead && pushesRecords(store) ? this.watchPushes(store, processor) : undefined;
    const channels = readsAhead ? [this.channels.cancel, this.channels.ended] : [this.channels.cancel];
    this.ready = Promise.all([this.worker.waitUntilReady(), this.subscriber.subscribe(...channels), watched]).then(() => undefined);
    this.ready.catch((error: unknown) => this.report(error));
  }

  /**
   * Watches the store's pushes; resolves once it does, or once that failed: records are then
   * read ahead, and the pushes watched again {@link WATCH_RETRY_MS} later (until the worker closes).
   */
  private watchPushes(store: RunStore & RecordPusher, processor: StepJobProcessor): Promise<void> {
    return store.watchRecords((runId, records) => processor.pushed(runId, records), (runId) => processor.wantsPushesOf(runId)).then(
      (watch) => {
        if (this.closing === undefined) this.watch = watch;
        else watch.close();
      },
      () => {
        setTimeout(() => {
          if (this.closing === undefined) void this.watchPushes(store, processor);
        }, WATCH_RETRY_MS).unref();
      },
    );
  }

  waitUntilReady(): Promise<void> {
    return this.ready;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.watch?.close();
      await this.worker.close();
      this.subscriber.disconnect();
      this.publisher.disconnect();
    })();
    return this.closing;
  }

  private publish(channel: string, message: StepProgressMessage | StepsEndedMessage): Promise<void> {
    return this.publisher.publish(channel, JSON.stringify(message)).then(
      () => undefined,
      () => undefined,
    );
  }

  private report(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    if (this.listenerCount('error') > 0) this.emit('error', failure);
    else console.warn(`fastroai step worker '${this.name}': ${failure.message}`);
  }
}
