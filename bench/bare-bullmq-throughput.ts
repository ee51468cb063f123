/**
 * Throughput through worker processes (issue 10's "throughput" row): 10,000 independent no-op
 * jobs with 2 worker CHILD processes, in jobs per second, from the first enqueue to the last
 * completion. The bare BullMQ contender adds them in bulk and counts completions in Redis (not
 * through QueueEvents, whose stream is trimmed at about 10,000 events). Ours (QueueRunner, 10,000
 * independent steps) plugs into the same harness as another {@link ThroughputContender}.
 *
 *   npx ts-node -T -r tsconfig-paths/register bench/bare-bullmq-throughput.ts [--jobs 10000] [--concurrency 1,8]
 *
 * Needs the local Redis (127.0.0.1:6379); everything runs under a unique key prefix, deleted after.
 */
import { join } from 'node:path';
import { openBenchQueue } from './bullmq-bench-queue';
import { formatNumber, formatTable } from './format-table';
import { ownCpuMs, postgresCpuReading, postgresCpuSince, processCpuMs, processesCpuMs } from './process-cpu';
import { median } from './sample-stats';
import { startWorkerProcesses, type WorkerProcesses } from './worker-processes';

/** Something that runs independent jobs through worker processes: bare BullMQ, or ours. */
export interface ThroughputContender {
  name: string;
  /** Starts `count` worker processes, each running `concurrency` jobs at a time. */
  startWorkers(count: number, concurrency: number): Promise<WorkerProcesses>;
  /** Enqueues `jobs` independent no-op jobs and resolves when every one has completed. */
  runJobs(jobs: number): Promise<void>;
  close(): Promise<void>;
}

/** One row: jobs per second. */
export interface Throughput {
  contender: string;
  workers: number;
  concurrency: number;
  jobs: number;
  /** The median of the rounds' seconds, and the jobs/s it makes. */
  seconds: number;
  jobsPerSecond: number;
  /** The median of the first contender's time ÷ this one's, per round (1 for the first). */
  shareOfFirst: number;
  roundSeconds: number[];
  cpuPerStepUs: CpuPerStep;
}

/** Options of {@link measureThroughputs}. */
export interface ThroughputOptions {
  /** @default 10_000 */
  jobs?: number;
  /** @default 2 */
  workers?: number;
  /** Jobs at a time in each worker process. @default 8 */
  concurrency?: number;
  /** Untimed jobs first (connections, scripts, JIT). @default 500 */
  warmupJobs?: number;
  /** Timed batches of `jobs` per contender. @default 1 */
  rounds?: number;
  /** The Redis server's process id, to count its CPU per step (when it runs on this machine). */
  redisPid?: number;
}

/** CPU per step (µs, median of the rounds), by process; undefined where it could not be read. */
export interface CpuPerStep {
  workers: number | undefined;
  caller: number;
  redis: number | undefined;
  /** Every `postgres` process of this machine (a store's server; idle, about 0, for the others). */
  postgres: number | undefined;
}

/**
 * Times several contenders side by side: each starts its workers (all stay up; idle workers block
 * on Redis and cost nothing) and warms up, then each round times `jobs` jobs of every contender,
 * in an order that rotates from round to round, so drift in the machine's load hits them alike.
 * A contender's share of the first is the median of the per-round shares; its jobs/s, the median.
 */
export async function measureThroughputs(contenders: ThroughputContender[], options: ThroughputOptions = {}): Promise<Throughput[]> {
  const jobs = options.jobs ?? 10_000;
  const workers = options.workers ?? 2;
  const concurrency = options.concurrency ?? 8;
  const started: WorkerProcesses[] = [];
  try {
    for (const contender of contenders) started.push(await contender.startWorkers(workers, concurrency));
    for (const contender of contenders) if ((options.warmupJobs ?? 500) > 0) await contender.runJobs(options.warmupJobs ?? 500);
    const seconds: number[][] = contenders.map(() => []);
    const cpu = contenders.map(() => ({ workers: [] as number[], caller: [] as number[], redis: [] as number[], postgres: [] as number[] }));
    const pidsOf = (which: number) => started[which].children.map((child) => child.pid);
    for (let round = 0; round < (options.rounds ?? 1); round++) {
      for (let k = 0; k < contenders.length; k++) {
        const which = (round + k) % contenders.length;
        const before = { workers: processesCpuMs(pidsOf(which)), caller: ownCpuMs(), redis: processCpuMs(options.redisPid), postgres: postgresCpuReading() };
        const startedMs = performance.now();
        await contenders[which].runJobs(jobs);
        seconds[which].push((performance.now() - startedMs) / 1000);
        const perStep = (after: number | undefined, from: number | undefined) => (after === undefined || from === undefined ? NaN : ((after - from) * 1000) / jobs);
        cpu[which].workers.push(perStep(processesCpuMs(pidsOf(which)), before.workers));
        cpu[which].caller.push(perStep(ownCpuMs(), before.caller));
        cpu[which].redis.push(perStep(processCpuMs(options.redisPid), before.redis));
        cpu[which].postgres.push(perStep(postgresCpuSince(before.postgres), 0));
      }
    }
    const medianOrUndefined = (values: number[]) => (values.some(Number.isNaN) ? undefined : median(values));
    return contenders.map((contender, which) => ({
      contender: contender.name,
      workers,
      concurrency,
      jobs,
      seconds: median(seconds[which]),
      jobsPerSecond: jobs / median(seconds[which]),
      shareOfFirst: median(seconds[which].map((s, round) => seconds[0][round] / s)),
      roundSeconds: seconds[which],
      cpuPerStepUs: {
        workers: medianOrUndefined(cpu[which].workers),
        caller: median(cpu[which].caller),
        redis: medianOrUndefined(cpu[which].redis),
        postgres: medianOrUndefined(cpu[which].postgres),
      },
    }));
  } finally {
    await Promise.all(started.map((processes) => processes.stop()));
  }
}

/** How often the bare contender counts completed jobs. */
const POLL_MS = 20;

/** Bare BullMQ: `addBulk` in chunks of 1,000, then wait until Redis counts them all completed. */
export async function createBareBullmqThroughput(redisPort = 6379): Promise<ThroughputContender> {
  const bench = await openBenchQueue(redisPort);
  let batches = 0;
  return {
    name: 'bare BullMQ',
    startWorkers: (count, concurrency) =>
      startWorkerProcesses({
        script: join(__dirname, 'bare-bullmq-worker.ts'),
        count,
        env: { ...bench.workerEnv, BENCH_CONCURRENCY: String(concurrency) },
      }),
    runJobs: async (jobs) => {
      const batch = ++batches;
      // Completed jobs are kept (and counted) until the batch is done, then removed.
      for (let first = 0; first < jobs; first += 1_000) {
        const chunk = Array.from({ length: Math.min(1_000, jobs - first) }, (_, i) => ({
          name: 'noop',
          data: {},
          opts: { jobId: `batch${batch}-job${first + i}`, removeOnFail: true },
        }));
        await bench.queue.addBulk(chunk);
      }
      for (;;) {
        const { completed = 0, failed = 0 } = await bench.queue.getJobCounts('completed', 'failed');
        if (failed > 0) throw new Error(`${failed} jobs failed`);
        if (completed >= jobs) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      await bench.queue.clean(0, 0, 'completed');
    },
    close: () => bench.close(),
  };
}

export function throughputTable(rows: Throughput[]): string {
  return formatTable(
    ['contender', 'worker processes', 'concurrency each', 'jobs', 'seconds', 'jobs/s'],
    rows.map((row) => [row.contender, String(row.workers), String(row.concurrency), String(row.jobs), formatNumber(row.seconds), formatNumber(row.jobsPerSecond)]),
    [false, true, true, true, true, true],
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const jobs = args.includes('--jobs') ? Number(args[args.indexOf('--jobs') + 1]) : 10_000;
  const concurrencies = args.includes('--concurrency') ? args[args.indexOf('--concurrency') + 1].split(',').map(Number) : [1, 8];
  const rows: Throughput[] = [];
  for (const concurrency of concurrencies) {
    const contender = await createBareBullmqThroughput();
    try {
      process.stderr.write(`bare BullMQ throughput: ${jobs} no-op jobs, 2 worker processes, concurrency ${concurrency}\n`);
      rows.push(...(await measureThroughputs([contender], { jobs, workers: 2, concurrency })));
    } finally {
      await contender.close();
    }
  }
  console.log(throughputTable(rows));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
