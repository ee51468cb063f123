/**
 * Chain latency through worker processes (issue 10's "chain latency" row): a chain of 200 no-op
 * steps where the caller enqueues each step when the previous one has completed, through 1 and
 * 2 worker CHILD processes; µs per step. The bare BullMQ contender adds a job, waits for its
 * completion (`job.waitUntilFinished`), adds the next. Ours (QueueRunner) plugs into the same
 * harness as another {@link ChainContender}.
 *
 *   npx ts-node -T -r tsconfig-paths/register bench/bare-bullmq-chain.ts [--steps 200] [--samples 5]
 *
 * Needs the local Redis (127.0.0.1:6379); everything runs under a unique key prefix, deleted after.
 */
import { join } from 'node:path';
import { openBenchQueue, type BenchQueue } from './bullmq-bench-queue';
import { formatNumber, formatTable } from './format-table';
import { median } from './sample-stats';
import { startWorkerProcesses, type WorkerProcesses } from './worker-processes';

/** Something that runs a chain through worker processes: bare BullMQ, or ours. */
export interface ChainContender {
  name: string;
  /** Starts `count` worker processes that serve this contender's chains. */
  startWorkers(count: number): Promise<WorkerProcesses>;
  /** Runs one chain of `steps` steps through the started workers, resolving when the last completed. */
  runChain(steps: number): Promise<void>;
  /** Closes the caller's side and removes what it left in Redis. */
  close(): Promise<void>;
}

/** One row: the median µs per step of a chain, over samples. */
export interface ChainLatency {
  contender: string;
  workers: number;
  steps: number;
  perStepUs: number;
  /** Each sample's µs per step. */
  samplesUs: number[];
  /** The median of this contender's time ÷ the first contender's, per round (1 for the first). */
  ratioToFirst: number;
}

export interface ChainLatencyOptions {
  /** @default 200 */
  steps?: number;
  workers: number;
  /** Timed chains of each contender. @default 5 */
  samples?: number;
  /** Untimed chains first (connections, scripts loaded, JIT). @default 1 */
  warmupRuns?: number;
}

/**
 * Times chains of several contenders side by side: each starts its workers (all stay up, idle
 * workers block on Redis and cost nothing), warms up, then each round times one chain of every
 * contender, in an order that rotates from round to round, so drift in the machine's load hits
 * them alike. A contender's ratio to the first is the median of the per-round ratios.
 */
export async function measureChainLatencies(contenders: ChainContender[], options: ChainLatencyOptions): Promise<ChainLatency[]> {
  const steps = options.steps ?? 200;
  const started: WorkerProcesses[] = [];
  try {
    for (const contender of contenders) started.push(await contender.startWorkers(options.workers));
    for (const contender of contenders) for (let i = 0; i < (options.warmupRuns ?? 1); i++) await contender.runChain(steps);
    const samplesUs: number[][] = contenders.map(() => []);
    for (let round = 0; round < (options.samples ?? 5); round++) {
      for (let k = 0; k < contenders.length; k++) {
        const which = (round + k) % contenders.length;
        const startedMs = performance.now();
        await contenders[which].runChain(steps);
        samplesUs[which].push(((performance.now() - startedMs) * 1000) / steps);
      }
    }
    return contenders.map((contender, which) => ({
      contender: contender.name,
      workers: options.workers,
      steps,
      perStepUs: median(samplesUs[which]),
      samplesUs: samplesUs[which],
      ratioToFirst: median(samplesUs[which].map((us, round) => us / samplesUs[0][round])),
    }));
  } finally {
    await Promise.all(started.map((workers) => workers.stop()));
  }
}

/** The bare BullMQ chain: the caller adds each job when the previous one has completed. */
export async function createBareBullmqChain(redisPort = 6379): Promise<ChainContender> {
  const bench: BenchQueue = await openBenchQueue(redisPort);
  // The completion of each job, told by QueueEvents (what `job.waitUntilFinished` listens to,
  // without its check of the job's key, which removeOnComplete has already deleted).
  const waiting = new Map<string, { resolve(): void; reject(error: Error): void }>();
  bench.events.on('completed', ({ jobId }) => waiting.get(jobId)?.resolve());
  bench.events.on('failed', ({ jobId, failedReason }) => waiting.get(jobId)?.reject(new Error(`job ${jobId} failed: ${failedReason}`)));
  let chains = 0;
  return {
    name: 'bare BullMQ',
    startWorkers: (count) => startWorkerProcesses({ script: join(__dirname, 'bare-bullmq-worker.ts'), count, env: bench.workerEnv }),
    runChain: async (steps) => {
      const chain = ++chains;
      for (let i = 0; i < steps; i++) {
        const jobId = `chain${chain}-step${i}`;
        const completed = new Promise<void>((resolve, reject) => waiting.set(jobId, { resolve, reject }));
        await bench.queue.add('step', { step: i }, { jobId, removeOnComplete: true, removeOnFail: true });
        await completed;
        waiting.delete(jobId);
      }
    },
    close: () => bench.close(),
  };
}

/** The rows of {@link ChainLatency} as a table. */
export function chainLatencyTable(rows: ChainLatency[]): string {
  return formatTable(
    ['contender', 'worker processes', 'steps', 'µs per step (median)', 'samples (µs per step)'],
    rows.map((row) => [row.contender, String(row.workers), String(row.steps), formatNumber(row.perStepUs), row.samplesUs.map((us) => formatNumber(us)).join(', ')]),
    [false, true, true, true, false],
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const valueOf = (flag: string, fallback: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : fallback);
  const steps = valueOf('--steps', 200);
  const samples = valueOf('--samples', 5);
  const rows: ChainLatency[] = [];
  for (const workers of [1, 2]) {
    const contender = await createBareBullmqChain();
    try {
      process.stderr.write(`bare BullMQ chain: ${steps} steps, ${workers} worker process(es)\n`);
      rows.push(...(await measureChainLatencies([contender], { steps, workers, samples })));
    } finally {
      await contender.close();
    }
  }
  console.log(chainLatencyTable(rows));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
