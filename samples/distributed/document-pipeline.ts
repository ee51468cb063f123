/**
 * The pipeline of the distributed sample, shared by the caller and the workers (both must
 * build the same graph: a worker refuses jobs of another version). extract → classify →
 * fetchMarket ∥ fetchUser → calculate; classify is an agent step (an offline scripted model).
 * Also where the sample's settings come from (environment variables).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Pipeline, step } from 'fastroai';
import { SqliteRunStore } from 'fastroai/sqlite';
import { createMockAgent } from 'fastroai/testing';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** Where the queue and the store are: REDIS_URL, FASTROAI_STORE (a SQLite file every process on this machine opens), FASTROAI_QUEUE_PREFIX. */
export function sampleSettings() {
  const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const storePath = process.env.FASTROAI_STORE ?? '.fastroai/distributed.db';
  mkdirSync(dirname(storePath), { recursive: true });
  return {
    connection: { host: redis.hostname, port: Number(redis.port || 6379) },
    prefix: process.env.FASTROAI_QUEUE_PREFIX ?? 'fastroai-sample',
    // One machine: a SQLite file. Workers on other machines: RedisRunStore or PostgresRunStore.
    store: new SqliteRunStore({ path: storePath }),
  };
}

export function documentPipeline() {
  const classifier = createMockAgent<string>([{ output: 'invoice', inputTokens: 420, outputTokens: 3, costMicrocents: 81, delayMs: 250 }]);
  return new Pipeline({
    name: 'document_processor',
    steps: {
      extract: step(async (ctx) => {
        await sleep(150, ctx.signal);
        return ctx.getInput<string>('document').split(/\s+/);
      }),
      classify: step(async (ctx) => (await ctx.run(classifier, `Classify: ${ctx.getDependency<string[]>('extract').join(' ')}`)).output),
      fetchMarket: step(async (ctx) => {
        await sleep(400, ctx.signal);
        return { eurUsd: 1.08 };
      }),
      fetchUser: step(async (ctx) => {
        await sleep(300, ctx.signal);
        return { discount: 0.1 };
      }),
      calculate: step((ctx) => {
        const { eurUsd } = ctx.getDependency<{ eurUsd: number }>('fetchMarket');
        return Math.round(1000 * eurUsd * (1 - ctx.getDependency<{ discount: number }>('fetchUser').discount));
      }),
    },
    dependencies: { classify: ['extract'], fetchMarket: ['classify'], fetchUser: ['classify'], calculate: ['fetchMarket', 'fetchUser'] },
  });
}
