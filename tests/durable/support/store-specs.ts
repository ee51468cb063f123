/**
 * The stores the process tests run against, by name. A child process gets a store as a spec
 * string on its argv (`sqlite:/tmp/…/runs.db`, `redis:<prefix>`, `postgres:<schema>`) and opens
 * it with {@link openStoreSpec}; the test makes a fresh one per test with {@link STORES_UNDER_TEST}.
 * The local Redis keeps nothing on disk: the AOF warning is switched off (the tests kill the
 * caller, not Redis).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunStore } from 'fastroai';
import { PostgresRunStore } from 'fastroai/postgres';
import { RedisRunStore } from 'fastroai/redis';
import { SqliteRunStore } from 'fastroai/sqlite';
import Redis from 'ioredis';
import { Client } from 'pg';

/** The local PostgreSQL (trust auth, database `test`). */
export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** How to open a store from the rest of its spec (after `kind:`). */
const STORE_OPENERS: Record<string, (rest: string) => RunStore> = {
  sqlite: (path) => new SqliteRunStore({ path }),
  redis: (prefix) => new RedisRunStore({ connection: { host: '127.0.0.1', port: 6379 }, prefix, warnIfNotDurable: false }),
  postgres: (schema) => new PostgresRunStore({ connectionString: POSTGRES_URL, schema }),
};

/** A fresh store for one test: its spec, and how to remove what it left. */
export interface StoreUnderTest {
  spec: string;
  cleanup(): Promise<void>;
}

/** Fresh stores by kind: a SQLite file in a temp dir, a unique Redis key prefix, a unique PostgreSQL schema. */
const FRESH_STORES: Record<string, () => Promise<StoreUnderTest>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastroai-crash-'));
    return { spec: `sqlite:${join(dir, 'runs.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  redis: async () => {
    const prefix = `fastroai-crash-${randomUUID()}:`;
    const cleanup = async () => {
      const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    };
    return { spec: `redis:${prefix}`, cleanup };
  },
  postgres: async () => {
    const schema = `fastroai_crash_${randomUUID().replace(/-/g, '')}`;
    const cleanup = async () => {
      const client = new Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    };
    return { spec: `postgres:${schema}`, cleanup };
  },
};

/** Fresh stores by name, for every kind that can be opened (has an opener). */
export const STORES_UNDER_TEST: Record<string, () => Promise<StoreUnderTest>> = Object.fromEntries(
  Object.entries(FRESH_STORES).filter(([kind]) => Object.hasOwn(STORE_OPENERS, kind)),
);

/** Opens the store a spec names (`kind:rest`). */
export function openStoreSpec(spec: string): RunStore {
  const colon = spec.indexOf(':');
  const opener = STORE_OPENERS[spec.slice(0, colon)];
  if (colon < 0 || opener === undefined) throw new Error(`Unknown store spec '${spec}': expected one of ${Object.keys(STORE_OPENERS).map((kind) => `${kind}:…`).join(', ')}`);
  return opener(spec.slice(colon + 1));
}
