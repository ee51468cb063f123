/**
 * A bare BullMQ worker process for the benchmark (bench/worker-processes.ts starts it): no-op
 * jobs, or a job that holds for `data.holdMs` and reports its start (`data.report`), for the
 * recovery measurement. Configured by the environment:
 *   BENCH_QUEUE, BENCH_PREFIX, BENCH_REDIS_PORT (6379), BENCH_CONCURRENCY (1),
 *   BENCH_LOCK_DURATION_MS, BENCH_STALLED_INTERVAL_MS (BullMQ's defaults when unset)
 */
import { Worker } from 'bullmq';

interface BareJobData {
  holdMs?: number;
  report?: boolean;
}

const env = process.env;
const numberOr = (value: string | undefined, fallback: number) => (value === undefined || value === '' ? fallback : Number(value));

const worker = new Worker<BareJobData>(
  env.BENCH_QUEUE ?? 'bench',
  async (job) => {
    if (job.data.report === true) process.stdout.write(`${JSON.stringify({ event: 'started', jobId: job.id, pid: process.pid })}\n`);
    if (job.data.holdMs !== undefined) await new Promise((resolve) => setTimeout(resolve, job.data.holdMs));
    return null;
  },
  {
    connection: { host: '127.0.0.1', port: numberOr(env.BENCH_REDIS_PORT, 6379), maxRetriesPerRequest: null },
    prefix: env.BENCH_PREFIX ?? 'bull',
    concurrency: numberOr(env.BENCH_CONCURRENCY, 1),
    // Given as undefined, BullMQ would not fall back to its defaults: set only what is given.
    ...(env.BENCH_LOCK_DURATION_MS ? { lockDuration: Number(env.BENCH_LOCK_DURATION_MS) } : {}),
    ...(env.BENCH_STALLED_INTERVAL_MS ? { stalledInterval: Number(env.BENCH_STALLED_INTERVAL_MS) } : {}),
  },
);
worker.on('error', (error) => process.stderr.write(`worker error: ${error.message}\n`));

void worker.waitUntilReady().then(() => process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void worker.close().finally(() => process.exit(0));
  });
}
