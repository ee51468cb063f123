/**
 * The caller's side of a bare BullMQ benchmark: a queue on the local Redis under a unique
 * prefix, its QueueEvents, and the removal of every key under the prefix after.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { deleteRedisKeys } from './delete-redis-keys';

/** A queue of the benchmark's own. */
export interface BenchQueue {
  queue: Queue;
  events: QueueEvents;
  /** What a worker process needs to join it (bench/bare-bullmq-worker.ts reads these). */
  workerEnv: Record<string, string>;
  /** Closes the connections and deletes every key under the prefix. */
  close(): Promise<void>;
}

/** Opens a queue under a fresh prefix (`fastroai-bench-<uuid>`) on the local Redis. */
export async function openBenchQueue(redisPort = 6379): Promise<BenchQueue> {
  const prefix = `fastroai-bench-${randomUUID()}`;
  const name = 'bare';
  const connection = { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null };
  const queue = new Queue(name, { connection, prefix });
  const events = new QueueEvents(name, { connection, prefix });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  return {
    queue,
    events,
    workerEnv: { BENCH_QUEUE: name, BENCH_PREFIX: prefix, BENCH_REDIS_PORT: String(redisPort) },
    close: async () => {
      await events.close();
      await queue.close();
      await deleteKeysUnder(`${prefix}:`, redisPort);
    },
  };
}

/** Deletes every key that starts with `prefix` (SCAN, not KEYS: the shared Redis stays responsive). */
export async function deleteKeysUnder(prefix: string, redisPort = 6379): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port: redisPort });
  try {
    await deleteRedisKeys(redis, prefix);
  } finally {
    await redis.quit();
  }
}
