/**
 * The shared store of the "Distributed runs" rows: a store the caller and the worker processes
 * open each on their own, named by a spec string (`sqlite:<file>`, `postgres:<schema>` or
 * `redis:<port>:<key prefix>`), made fresh for a measurement and removed after. The Redis store
 * shares the server BullMQ runs on, as a deployment with workers on several machines would
 * (the bench's Redis keeps nothing on disk: the store's AOF warning is switched off).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunStore } from 'fastroai';
import { PostgresRunStore } from 'fastroai/postgres';
import { RedisRunStore } from 'fastroai/redis';
import { SqliteRunStore } from 'fastroai/sqlite';
import { Client } from 'pg';
import { deleteKeysUnder } from './bullmq-bench-queue';

/** The local PostgreSQL (trust auth, database `test`). */
export const BENCH_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** `postgres-push`: PostgreSQL with `pushRecords` (off by default: see PostgresRunStoreOptions). */
export type SharedStoreKind = 'sqlite' | 'postgres' | 'postgres-push' | 'redis';

/** A fresh shared store: its spec, for the workers, and how to remove it. */
export interface SharedStore {
  kind: SharedStoreKind;
  spec: string;
  /** Removes the file (SQLite), the schema (PostgreSQL) or the keys (Redis). */
  remove(): Promise<void>;
}

/** Opens the store of a spec (each process its own connection or file handle). */
export function openSharedStore(spec: string): RunStore {
  const [kind, ...rest] = spec.split(':');
  const where = rest.join(':');
  if (kind === 'sqlite') return new SqliteRunStore({ path: where });
  if (kind === 'postgres' || kind === 'postgres-push') return new PostgresRunStore({ connectionString: BENCH_POSTGRES_URL, schema: where, pushRecords: kind === 'postgres-push' });
  if (kind === 'redis') {
    const [port, ...prefix] = where.split(':');
    return new RedisRunStore({ connection: { host: '127.0.0.1', port: Number(port) }, prefix: prefix.join(':'), warnIfNotDurable: false });
  }
  throw new Error(`unknown store spec '${spec}'`);
}

/** A new SQLite file in a temporary directory, a new PostgreSQL schema, or a new key prefix on the Redis at `redisPort`. */
export function freshSharedStore(kind: SharedStoreKind, redisPort = 6379): SharedStore {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'fastroai-distributed-bench-'));
    return { kind, spec: `sqlite:${join(dir, 'runs.db')}`, remove: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (kind === 'redis') {
    const prefix = `fastroai-bench-store-${randomUUID()}:`;
    return { kind, spec: `redis:${redisPort}:${prefix}`, remove: () => deleteKeysUnder(prefix, redisPort) };
  }
  const schema = `fastroai_distributed_bench_${randomUUID().replace(/-/g, '')}`;
  return {
    kind,
    spec: `${kind}:${schema}`,
    remove: async () => {
      const client = new Client({ connectionString: BENCH_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
