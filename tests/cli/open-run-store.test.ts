import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FastroAIError, type RunStore } from 'fastroai';
import { PostgresRunStore } from 'fastroai/postgres';
import { RedisRunStore } from 'fastroai/redis';
import { SqliteRunStore } from 'fastroai/sqlite';
import BetterSqlite3 from 'better-sqlite3';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { openRunStore } from '../../src/cli/open-run-store';
import { makeRunRecord } from '../store/run-store-contract';

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

let dir: string;
const opened: RunStore[] = [];

/** Opens through the URL and remembers the store, to close it after the test. */
function open(url: string, cwd?: string): RunStore {
  const store = openRunStore(url, { cwd });
  opened.push(store);
  return store;
}

function errorOf(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fastroai-open-store-'));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openRunStore', () => {
  describe('sqlite:', () => {
    let path: string;

    beforeAll(async () => {
      path = join(dir, 'runs.db');
      const writer = new SqliteRunStore({ path });
      await writer.createRun(makeRunRecord('run-in-sqlite'));
      await writer.close();
    });

    it('opens an existing SQLite file, by absolute path, and reads its runs', async () => {
      const store = open(`sqlite:${path}`);
      expect(store).toBeInstanceOf(SqliteRunStore);
      expect(store.name).toBe(`sqlite:${path}`);
      expect((await store.listRuns()).runs.map((run) => run.runId)).toEqual(['run-in-sqlite']);
    });

    it('reads a relative path against the given working directory, and takes sqlite://<path> too', async () => {
      expect((await open('sqlite:runs.db', dir).getRun('run-in-sqlite'))?.run.pipeline).toBe('booking');
      expect((await open('sqlite://runs.db', dir).getRun('run-in-sqlite'))?.run.pipeline).toBe('booking');
      expect((await open(`sqlite://${path}`).getRun('run-in-sqlite'))?.run.pipeline).toBe('booking');
    });

    it('refuses a file that does not exist, naming it, and does not create it', () => {
      const missing = join(dir, 'nothing-here', 'runs.db');
      const error = errorOf(() => open(`sqlite:${missing}`));
      expect(FastroAIError.isInstance(error)).toBe(true);
      expect(error.message).toContain(`No SQLite run store at ${missing}: the file does not exist`);
      expect(error.message).toContain('npm run demo in its repository, writes .fastroai/runs.db');
      expect(existsSync(missing)).toBe(false);
    });

    it('refuses a SQLite database that is not a run store, and leaves it as it was', () => {
      const other = join(dir, 'other.db');
      const db = new BetterSqlite3(other);
      db.exec('CREATE TABLE notes (body TEXT)');
      db.close();
      expect(errorOf(() => open(`sqlite:${other}`)).message).toBe(
        `No SQLite run store at ${other}: the file is not a database of fastroai runs (it has no fastroai_runs table)`,
      );
      const after = new BetterSqlite3(other, { readonly: true });
      const tables = after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      after.close();
      expect(tables).toEqual([{ name: 'notes' }]);
    });

    it('refuses a file that is not SQLite at all, as the store does (unavailable)', () => {
      const text = join(dir, 'notes.txt');
      writeFileSync(text, 'not a database, just some text that is long enough to have a header '.repeat(4));
      expect(errorOf(() => open(`sqlite:${text}`)).message).toMatch(/^Run store sqlite:.*notes\.txt is unavailable: file is not a database$/);
    });

    it('refuses a directory and an empty path', () => {
      mkdirSync(join(dir, 'a-folder'));
      expect(errorOf(() => open('sqlite:a-folder', dir)).message).toBe(`No SQLite run store at ${join(dir, 'a-folder')}: it is not a file`);
      expect(errorOf(() => open('sqlite:')).message).toContain("Expected a file path after 'sqlite:'");
    });
  });

  describe('redis://', () => {
    const prefix = `fastroai-open-store-${randomUUID()}:`;
    let admin: Redis;

    beforeAll(async () => {
      admin = new Redis({ host: '127.0.0.1', port: 6379 });
      const writer = new RedisRunStore({ connection: admin, prefix, warnIfNotDurable: false });
      await writer.createRun(makeRunRecord('run-in-redis'));
    });

    afterAll(async () => {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    });

    it('opens a RedisRunStore on the host and port, with the prefix of ?prefix=', async () => {
      const store = open(`redis://127.0.0.1:6379?prefix=${encodeURIComponent(prefix)}`);
      expect(store).toBeInstanceOf(RedisRunStore);
      expect(store.name).toBe(`redis:${prefix}`);
      expect((await store.listRuns()).runs.map((run) => run.runId)).toEqual(['run-in-redis']);
    });

    it("uses the store's default prefix without ?prefix=, and the database number of the path", async () => {
      expect(open('redis://127.0.0.1:6379').name).toBe('redis:fastroai:');
      // Database 1 of the same server does not hold the run written to database 0.
      expect(await open(`redis://127.0.0.1:6379/1?prefix=${encodeURIComponent(prefix)}`).getRun('run-in-redis')).toBeUndefined();
      expect(await open(`redis://127.0.0.1:6379/0?prefix=${encodeURIComponent(prefix)}`).getRun('run-in-redis')).toBeDefined();
    });

    it('refuses an unknown parameter and a database that is not a number', () => {
      expect(errorOf(() => open('redis://127.0.0.1:6379?prefx=a:')).message).toBe(
        "Unknown parameter 'prefx' in 'redis://127.0.0.1:6379?prefx=a:': expected 'prefix'",
      );
      expect(errorOf(() => open('redis://127.0.0.1:6379/runs')).message).toBe(
        "Expected a database number after the host of 'redis://127.0.0.1:6379/runs', got 'runs'",
      );
    });
  });

  describe('postgres://', () => {
    const schema = `fastroai_open_store_${randomUUID().replace(/-/g, '')}`;

    beforeAll(async () => {
      const writer = new PostgresRunStore({ connectionString: POSTGRES_URL, schema });
      await writer.createRun(makeRunRecord('run-in-postgres'));
      await writer.close();
    });

    afterAll(async () => {
      const client = new Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });

    it('opens a PostgresRunStore on the connection string, in the schema of ?schema=', async () => {
      const store = open(`${POSTGRES_URL}?schema=${schema}`);
      expect(store).toBeInstanceOf(PostgresRunStore);
      expect(store.name).toBe(`postgres:${schema}`);
      expect((await store.listRuns()).runs.map((run) => run.runId)).toEqual(['run-in-postgres']);
    });

    it('takes postgresql:// too, and passes other parameters on to pg', async () => {
      const store = open(`postgresql://postgres@127.0.0.1:5432/test?schema=${schema}&application_name=fastroai-inspect`);
      expect((await store.getRun('run-in-postgres'))?.run.runId).toBe('run-in-postgres');
    });

    it('refuses a schema that is not a plain identifier', () => {
      expect(errorOf(() => open(`${POSTGRES_URL}?schema=a;drop`)).message).toContain('Expected PostgresRunStore schema to be a plain identifier');
    });
  });

  it('refuses a URL of no known form, listing the forms it takes', () => {
    const error = errorOf(() => open('mysql://127.0.0.1/test'));
    expect(FastroAIError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/^Expected a run store URL, got 'mysql:\/\/127\.0\.0\.1\/test'\. Use one of:\n {2}sqlite:<path>\n {2}redis:\/\/.*\n {2}postgres:\/\/.*$/);
  });

  it('suggests sqlite: for a bare path to a database file', () => {
    expect(errorOf(() => open('.fastroai/runs.db')).message).toMatch(/\nDid you mean sqlite:\.fastroai\/runs\.db\?$/);
  });

  it('refuses a redis or postgres URL that does not parse', () => {
    expect(errorOf(() => open('redis://a b')).message).toBe("Expected a run store URL, got 'redis://a b', which is not a valid URL");
    expect(errorOf(() => open('postgres://[::1')).message).toContain('which is not a valid URL');
  });
});
