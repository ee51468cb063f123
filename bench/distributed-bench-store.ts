/**
 * The shared store of the "Distributed runs" rows: a store the caller and the worker processes
 * open each on their own, named by a spec string (`sqlite:<file>` or `postgres:<schema>`), made
 * fresh for a measurement and removed after.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunStore } from 'fastroai';
import { PostgresRunStore } from 'fastroai/postgres';
import { SqliteRunStore } from 'fastroai/sqlite';
import { Client } from 'pg';

/** The local PostgreSQL (trust auth, database `test`). */
export const BENCH_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export type SharedStoreKind = 'sqlite' | 'postgres';

/** A fresh shared store: its spec, for the workers, and how to remove it. */
export interface SharedStore {
  kind: SharedStoreKind;
  spec: string;
  /** Removes the file (SQLite) or the schema (PostgreSQL). */
  remove(): Promise<void>;
}

/** Opens the store of a spec (each process its own connection or file handle). */
export function openSharedStore(spec: string): RunStore {
  const [kind, ...rest] = spec.split(':');
  const where = rest.join(':');
  if (kind === 'sqlite') return new SqliteRunStore({ path: where });
  if (kind === 'postgres') return new PostgresRunStore({ connectionString: BENCH_POSTGRES_URL, schema: where });
  throw new Error(`unknown store spec '${spec}'`);
}

/** A new SQLite file in a temporary directory, or a new PostgreSQL schema. */
export function freshSharedStore(kind: SharedStoreKind): SharedStore {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'fastroai-distributed-bench-'));
    return { kind, spec: `sqlite:${join(dir, 'runs.db')}`, remove: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `fastroai_distributed_bench_${randomUUID().replace(/-/g, '')}`;
  return {
    kind,
    spec: `postgres:${schema}`,
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
