/**
 * The stores the process tests run against, by name. A child process gets a store as a spec
 * string on its argv (`sqlite:/tmp/…/runs.db`) and opens it with {@link openStoreSpec}; the test
 * makes a fresh one per test with {@link STORES_UNDER_TEST}.
 *
 * Adding a store is one entry in each table, e.g. for Redis:
 *   STORE_OPENERS: `redis: (prefix) => new RedisRunStore({ connection: { host: '127.0.0.1', port: 6379 }, prefix }),`
 *   STORES_UNDER_TEST: `redis: async () => ({ spec: `redis:fastroai-test-${randomUUID()}:`, cleanup: <delete the prefix's keys> }),`
 * and for PostgreSQL `postgres: (schema) => new PostgresRunStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', schema })`
 * with a cleanup that drops the schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunStore } from 'fastroai';
import { SqliteRunStore } from 'fastroai/sqlite';

/** How to open a store from the rest of its spec (after `kind:`). */
const STORE_OPENERS: Record<string, (rest: string) => RunStore> = {
  sqlite: (path) => new SqliteRunStore({ path }),
};

/** A fresh store for one test: its spec, and how to remove what it left. */
export interface StoreUnderTest {
  spec: string;
  cleanup(): Promise<void>;
}

/** Fresh stores by name: a real SQLite file in a temp dir. */
export const STORES_UNDER_TEST: Record<string, () => Promise<StoreUnderTest>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastroai-crash-'));
    return { spec: `sqlite:${join(dir, 'runs.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

/** Opens the store a spec names (`kind:rest`). */
export function openStoreSpec(spec: string): RunStore {
  const colon = spec.indexOf(':');
  const opener = STORE_OPENERS[spec.slice(0, colon)];
  if (colon < 0 || opener === undefined) throw new Error(`Unknown store spec '${spec}': expected one of ${Object.keys(STORE_OPENERS).map((kind) => `${kind}:…`).join(', ')}`);
  return opener(spec.slice(colon + 1));
}
