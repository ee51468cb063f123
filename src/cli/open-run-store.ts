import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FastroAIError } from '../errors/fastroai-error';
import { PostgresRunStore } from '../postgres/postgres-run-store';
import { RedisRunStore } from '../redis/redis-run-store';
import { loadBetterSqlite3 } from '../sqlite/load-better-sqlite3';
import { SqliteRunStore } from '../sqlite/sqlite-run-store';
import type { RunStore } from '../store/run-store';

/** The store URL forms {@link openRunStore} reads, for messages and `--help`. */
export const RUN_STORE_URL_FORMS = [
  'sqlite:<path>',
  'redis://[user:password@]host[:port][/db][?prefix=<prefix>]  (or rediss://)',
  'postgres://[user[:password]@]host[:port]/db[?schema=<schema>]',
];

/** Options of {@link openRunStore}. */
export interface OpenRunStoreOptions {
  /** What a relative `sqlite:` path is relative to. @default process.cwd() */
  cwd?: string;
}

/**
 * Opens the run store a URL names (the `--store` of `fastroai inspect`):
 * - `sqlite:<path>` (or `sqlite://<path>`): a {@link SqliteRunStore} on a file that must exist;
 * - `redis://…` / `rediss://…`: a {@link RedisRunStore}; `?prefix=` is its key prefix;
 * - `postgres://…` / `postgresql://…`: a {@link PostgresRunStore}; `?schema=` is its schema.
 *
 * The store opens its own connection, closed by its `close()`. Redis and PostgreSQL are not
 * reached here: the first call reaches them.
 *
 * @example
 * const store = openRunStore('redis://127.0.0.1:6379?prefix=myapp:');
 * @throws FastroAIError for a URL of no known form, a missing SQLite file, or a store whose
 * optional package (better-sqlite3, ioredis, pg) is not installed
 */
export function openRunStore(url: string, options: OpenRunStoreOptions = {}): RunStore {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite':
      return openSqliteStore(url, options.cwd ?? process.cwd());
    case 'redis':
    case 'rediss':
      // The inspector reads runs that others write: the writers warn about Redis without AOF.
      return new RedisRunStore({ ...redisStoreOptionsOf(url), warnIfNotDurable: false });
    case 'postgres':
    case 'postgresql':
      return new PostgresRunStore(postgresStoreOptionsOf(url));
    default:
      throw new FastroAIError(
        `Expected a run store URL, got '${url}'. Use one of:\n${RUN_STORE_URL_FORMS.map((form) => `  ${form}`).join('\n')}` +
          (scheme === undefined && /\.(db|sqlite3?)$/i.test(url) ? `\nDid you mean sqlite:${url}?` : ''),
      );
  }
}

function openSqliteStore(url: string, cwd: string): SqliteRunStore {
  const given = url.slice('sqlite:'.length).replace(/^\/\//, '');
  if (given === '') throw new FastroAIError(`Expected a file path after 'sqlite:', got '${url}' (e.g. sqlite:.fastroai/runs.db)`);
  const path = resolve(cwd, given);
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new FastroAIError(
      `No SQLite run store at ${path}: the file does not exist. A run recorded with new SqliteRunStore({ path }) creates it ` +
        `(fastroai's demo, npm run demo in its repository, writes .fastroai/runs.db).`,
    );
  }
  if (!isFile) throw new FastroAIError(`No SQLite run store at ${path}: it is not a file`);
  // Opening a SqliteRunStore creates its tables: never in a database that is not one.
  if (!holdsRunTables(path)) {
    throw new FastroAIError(`No SQLite run store at ${path}: the file is not a database of fastroai runs (it has no fastroai_runs table)`);
  }
  return new SqliteRunStore({ path });
}

/** True when the SQLite file has the run table; a file that is not SQLite is left to the store's own error. */
function holdsRunTables(path: string): boolean {
  const BetterSqlite3 = loadBetterSqlite3();
  let db: InstanceType<typeof BetterSqlite3> | undefined;
  try {
    db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fastroai_runs'").get() !== undefined;
  } catch {
    return true;
  } finally {
    db?.close();
  }
}

/**
 * Options of a RedisRunStore from `redis://[user:password@]host[:port][/db][?prefix=…]`: the
 * URL without `prefix` goes to the store as its connection (ioredis reads host, port,
 * credentials, database and `rediss:`'s TLS from it).
 */
function redisStoreOptionsOf(url: string): { connection: string; prefix?: string } {
  const parsed = parseUrl(url);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new FastroAIError(`Expected a database number after the host of '${url}', got '${db}'`);
  const { prefix } = queryOf(parsed, url, ['prefix']);
  parsed.search = '';
  return prefix === undefined ? { connection: parsed.toString() } : { connection: parsed.toString(), prefix };
}

/** Options of a PostgresRunStore from `postgres://…[?schema=…]` (other parameters go to pg). */
function postgresStoreOptionsOf(url: string): { connectionString: string; schema?: string } {
  const parsed = parseUrl(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return schema === undefined ? { connectionString: parsed.toString() } : { connectionString: parsed.toString(), schema };
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (error) {
    throw new FastroAIError(`Expected a run store URL, got '${url}', which is not a valid URL`, { cause: error });
  }
}

/** The URL's query parameters, every one of them among `known`. */
function queryOf(parsed: URL, url: string, known: string[]): Record<string, string | undefined> {
  const query: Record<string, string | undefined> = {};
  for (const [key, value] of parsed.searchParams) {
    if (!known.includes(key)) throw new FastroAIError(`Unknown parameter '${key}' in '${url}': expected ${known.map((name) => `'${name}'`).join(', ')}`);
    query[key] = value;
  }
  return query;
}
