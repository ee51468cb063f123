/**
 * A fastroai step worker process for the "Distributed runs" rows (bench/worker-processes.ts
 * starts it): `createStepWorker` with the bench pipelines (bench/distributed-bench-pipelines.ts),
 * speaking the same stdout protocol as bench/bare-bullmq-worker.ts. Configured by the environment:
 *   BENCH_STORE (a spec of bench/distributed-bench-store.ts), BENCH_PREFIX, BENCH_QUEUE,
 *   BENCH_REDIS_PORT (6379), BENCH_CONCURRENCY (1), BENCH_CHAIN_STEPS and BENCH_FANOUT_STEPS
 *   (comma-separated sizes of the pipelines to serve), BENCH_LOCK_DURATION_MS,
 *   BENCH_STALLED_INTERVAL_MS (the worker's defaults when unset)
 */
import type { Pipeline } from 'fastroai';
import { createStepWorker } from 'fastroai/distributed';
import { chainPipeline, fanOutPipeline, heldPipeline } from './distributed-bench-pipelines';
import { openSharedStore } from './distributed-bench-store';

const env = process.env;
const sizes = (value: string | undefined) => (value === undefined || value === '' ? [] : value.split(',').map(Number));
const optional = (value: string | undefined) => (value === undefined || value === '' ? undefined : Number(value));

const pipelines: Pipeline[] = [...sizes(env.BENCH_CHAIN_STEPS).map(chainPipeline), ...sizes(env.BENCH_FANOUT_STEPS).map(fanOutPipeline), heldPipeline()];
const store = openSharedStore(env.BENCH_STORE ?? '');
const worker = createStepWorker({
  pipelines,
  store,
  connection: { host: '127.0.0.1', port: optional(env.BENCH_REDIS_PORT) ?? 6379 },
  prefix: env.BENCH_PREFIX,
  queueName: env.BENCH_QUEUE,
  concurrency: optional(env.BENCH_CONCURRENCY) ?? 1,
  lockDuration: optional(env.BENCH_LOCK_DURATION_MS),
  stalledInterval: optional(env.BENCH_STALLED_INTERVAL_MS),
});
worker.on('error', (error) => process.stderr.write(`worker error: ${error.message}\n`));

void worker.waitUntilReady().then(() => process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void worker
      .close()
      .then(() => store.close())
      .finally(() => process.exit(0));
  });
}
