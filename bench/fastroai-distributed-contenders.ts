/**
 * Ours in the distributed harnesses: `QueueRunner` in this process (the caller keeps the
 * scheduler) and `createStepWorker` in worker CHILD processes (bench/fastroai-step-worker.ts),
 * sharing a store the caller and each worker open on their own (a SQLite file, a Redis key
 * prefix, or a PostgreSQL schema), as the {@link ChainContender}, {@link ThroughputContender} and {@link RecoveryContender}
 * the bare BullMQ rows are measured with.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Pipeline, PipelineResult, RunStore } from 'fastroai';
import { QueueRunner, stepJobId } from 'fastroai/distributed';
import type { ChainContender } from './bare-bullmq-chain';
import type { RecoveryContender } from './bare-bullmq-recovery';
import type { ThroughputContender } from './bare-bullmq-throughput';
import { deleteKeysUnder } from './bullmq-bench-queue';
import { chainPipeline, fanOutPipeline, HELD_STEP_ID, heldPipeline, type HeldInput } from './distributed-bench-pipelines';
import { freshSharedStore, openSharedStore, type SharedStoreKind } from './distributed-bench-store';
import { startWorkerProcesses, type WorkerProcesses } from './worker-processes';

const QUEUE_NAME = 'fastroai-bench';

/** The caller's side: a runner on a private prefix, and a fresh shared store. */
class DistributedCaller {
  readonly prefix = `fastroai-bench-${randomUUID()}`;
  readonly runner: QueueRunner;
  readonly store: RunStore;
  private readonly shared;

  constructor(
    storeKind: SharedStoreKind,
    private readonly redisPort: number,
  ) {
    this.shared = freshSharedStore(storeKind, redisPort);
    this.store = openSharedStore(this.shared.spec);
    this.runner = new QueueRunner({ connection: { host: '127.0.0.1', port: redisPort }, prefix: this.prefix, queueName: QUEUE_NAME });
  }

  /** Starts worker processes serving these pipeline sizes. */
  startWorkers(count: number, env: Record<string, string>): Promise<WorkerProcesses> {
    return startWorkerProcesses({
      script: join(__dirname, 'fastroai-step-worker.ts'),
      count,
      env: { BENCH_STORE: this.shared.spec, BENCH_PREFIX: this.prefix, BENCH_QUEUE: QUEUE_NAME, BENCH_REDIS_PORT: String(this.redisPort), ...env },
    });
  }

  /** One run (`execute` rejects when a step failed). */
  run(pipeline: Pipeline, input: Record<string, unknown> = {}, runId?: string): Promise<PipelineResult> {
    return pipeline.execute(input, undefined, { store: this.store, runner: this.runner, ...(runId === undefined ? {} : { runId }) });
  }

  async close(): Promise<void> {
    try {
      await this.runner.close();
      await this.store.close();
    } finally {
      await deleteKeysUnder(`${this.prefix}:`, this.redisPort);
      await this.shared.remove();
    }
  }
}

/** The label of a contender: `fastroai (SQLite file)`. */
function contenderName(storeKind: SharedStoreKind): string {
  const names: Record<SharedStoreKind, string> = { sqlite: 'SQLite file', postgres: 'PostgreSQL', 'postgres-push': 'PostgreSQL, pushRecords', redis: 'Redis' };
  return `fastroai (${names[storeKind]})`;
}

/** A chain of `steps` steps, one `execute` per chain. */
export function createFastroaiChain(storeKind: SharedStoreKind, steps: number, redisPort = 6379): ChainContender {
  const caller = new DistributedCaller(storeKind, redisPort);
  const pipeline = chainPipeline(steps);
  return {
    name: contenderName(storeKind),
    startWorkers: (count) => caller.startWorkers(count, { BENCH_CHAIN_STEPS: String(steps) }),
    runChain: async (chainSteps) => {
      if (chainSteps !== steps) throw new Error(`this contender runs ${steps}-step chains, not ${chainSteps}`);
      await caller.run(pipeline);
    },
    close: () => caller.close(),
  };
}

/** `jobs` independent steps in one run (`execute`), for each size in `sizes` (the warm-up's and the timed run's). */
export function createFastroaiThroughput(storeKind: SharedStoreKind, sizes: number[], redisPort = 6379): ThroughputContender {
  const caller = new DistributedCaller(storeKind, redisPort);
  const pipelines = new Map(sizes.map((size) => [size, fanOutPipeline(size)]));
  return {
    name: contenderName(storeKind),
    startWorkers: (count, concurrency) => caller.startWorkers(count, { BENCH_FANOUT_STEPS: sizes.join(','), BENCH_CONCURRENCY: String(concurrency) }),
    runJobs: async (jobs) => {
      const pipeline = pipelines.get(jobs);
      if (pipeline === undefined) throw new Error(`no ${jobs}-step fan-out pipeline (sizes: ${sizes.join(', ')})`);
      await caller.run(pipeline);
    },
    close: () => caller.close(),
  };
}

/** One held step per run, its job id known ahead (the run id is chosen here). */
export function createFastroaiRecovery(storeKind: SharedStoreKind, redisPort = 6379): RecoveryContender {
  const caller = new DistributedCaller(storeKind, redisPort);
  const pipeline = heldPipeline();
  const runs = new Map<string, Promise<PipelineResult>>();
  return {
    name: contenderName(storeKind),
    startWorkers: (count, locks) =>
      caller.startWorkers(count, { BENCH_LOCK_DURATION_MS: String(locks.lockDurationMs), BENCH_STALLED_INTERVAL_MS: String(locks.stalledIntervalMs) }),
    enqueueHeldJob: async (holdMs) => {
      const runId = `held-${randomUUID()}`;
      const jobId = stepJobId(runId, HELD_STEP_ID, 1);
      const input: HeldInput = { jobId, holdMs };
      const run = caller.run(pipeline, { ...input }, runId);
      run.catch(() => undefined); // awaited by waitForCompletion
      runs.set(jobId, run);
      return jobId;
    },
    waitForCompletion: async (jobId) => {
      await runs.get(jobId);
      runs.delete(jobId);
    },
    close: () => caller.close(),
  };
}
