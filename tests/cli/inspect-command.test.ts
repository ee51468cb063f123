import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisRunStore } from 'fastroai/redis';
import { SqliteRunStore } from 'fastroai/sqlite';
import { Redis } from 'ioredis';
import { DEFAULT_STORE_URL, INSPECTOR_TOKEN_ENV, isLoopbackHost, parseInspectArgs } from '../../src/cli/inspect-command';
import { CliUsageError } from '../../src/cli/cli-usage-error';
import { makeRunRecord } from '../store/run-store-contract';
import { runCliInProcess } from './support/run-cli-in-process';

let dir: string;
let dbPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fastroai-inspect-'));
  dbPath = join(dir, 'runs.db');
  const writer = new SqliteRunStore({ path: dbPath });
  await writer.createRun(makeRunRecord('run-one', { pipeline: 'invoices', status: 'completed' }));
  await writer.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usageErrorOf(work: () => unknown): CliUsageError {
  try {
    work();
  } catch (error) {
    if (error instanceof CliUsageError) return error;
    throw error;
  }
  throw new Error('expected a CliUsageError');
}

describe('parseInspectArgs', () => {
  it('defaults to the SQLite file of the demo, port 4800, 127.0.0.1 and no token', () => {
    expect(parseInspectArgs([])).toEqual({ help: false, store: DEFAULT_STORE_URL, port: 4800, host: '127.0.0.1', token: undefined });
    expect(DEFAULT_STORE_URL).toBe('sqlite:.fastroai/runs.db');
  });

  it('reads every option, and --option=value', () => {
    expect(parseInspectArgs(['--store', 'redis://h:1', '--port=0', '--host', '0.0.0.0', '--token', 't0k', '-h'])).toEqual({
      help: true,
      store: 'redis://h:1',
      port: 0,
      host: '0.0.0.0',
      token: 't0k',
    });
  });

  it(`takes the token from ${INSPECTOR_TOKEN_ENV} unless --token is given`, () => {
    expect(parseInspectArgs([], { [INSPECTOR_TOKEN_ENV]: 'from-env' }).token).toBe('from-env');
    expect(parseInspectArgs(['--token', 'flag'], { [INSPECTOR_TOKEN_ENV]: 'from-env' }).token).toBe('flag');
    expect(parseInspectArgs([], { [INSPECTOR_TOKEN_ENV]: '' }).token).toBeUndefined();
  });

  it('refuses an unknown option, a stray argument, a bad port and an empty token', () => {
    expect(usageErrorOf(() => parseInspectArgs(['--stroe', 'x'])).message).toContain("Unknown option '--stroe'");
    expect(usageErrorOf(() => parseInspectArgs(['runs.db'])).message).toContain("Unexpected argument 'runs.db'");
    expect(usageErrorOf(() => parseInspectArgs(['--port', '80a'])).message).toBe("Expected --port to be a port number from 0 to 65535, got '80a'");
    expect(usageErrorOf(() => parseInspectArgs(['--port', '65536'])).message).toBe("Expected --port to be a port number from 0 to 65535, got '65536'");
    expect(usageErrorOf(() => parseInspectArgs(['--port'])).message).toContain("Option '--port <value>' argument missing");
    expect(usageErrorOf(() => parseInspectArgs(['--token='])).message).toBe('Expected --token to be a non-empty string');
  });
});

describe('isLoopbackHost', () => {
  it('knows the addresses only this machine reaches', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '10.0.0.5', '::', 'example.com', '127.0.0.1.example.com']) expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('fastroai inspect', () => {
  it('serves the runs of the store, prints the URL, and on stop closes the server and the store', async () => {
    const cli = runCliInProcess(['inspect', '--store', `sqlite:${dbPath}`, '--port', '0']);
    const url = await cli.url();
    expect(cli.out[0]).toBe(`fastroai inspector on sqlite:${dbPath}`);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('invoices');
    // The store is open: SQLite keeps its write-ahead log next to the file.
    expect(existsSync(`${dbPath}-wal`)).toBe(true);

    cli.stop();
    expect(await cli.status).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
    // The last connection to close checkpoints the log and deletes it: the store was closed.
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
    expect(cli.err).toEqual([]);
  });

  it('reads a relative sqlite: path from its working directory (the default store, .fastroai/runs.db, is one)', async () => {
    const cli = runCliInProcess(['inspect', '--store', 'sqlite:runs.db', '--port', '0'], { cwd: dir });
    const page = await fetch(await cli.url());
    expect(await page.text()).toContain('run-one');
    cli.stop();
    expect(await cli.status).toBe(0);
  });

  it('says where the default store should be when it is missing, and exits 1 without serving', async () => {
    const cli = runCliInProcess(['inspect', '--port', '0'], { cwd: join(dir, 'elsewhere') });
    expect(await cli.status).toBe(1);
    expect(cli.err).toEqual([
      `fastroai: No SQLite run store at ${join(dir, 'elsewhere', '.fastroai', 'runs.db')}: the file does not exist. ` +
        "A run recorded with new SqliteRunStore({ path }) creates it (fastroai's demo, npm run demo in its repository, writes .fastroai/runs.db).",
    ]);
    expect(cli.out).toEqual([]);
  });

  it('names the store it cannot reach, hiding the password, and exits 1', async () => {
    // A port nothing listens on: a server bound then closed.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const cli = runCliInProcess(['inspect', '--store', `postgres://app:secret@127.0.0.1:${port}/test?schema=runs`, '--port', '0']);
    expect(await cli.status).toBe(1);
    expect(cli.err).toEqual([`fastroai: Cannot read runs from postgres:runs (postgres://app:***@127.0.0.1:${port}/test?schema=runs): connect ECONNREFUSED 127.0.0.1:${port}`]);
  }, 30_000);

  it('tells a port in use, with the option to change it, and exits 2', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const cli = runCliInProcess(['inspect', '--store', `sqlite:${dbPath}`, '--port', String(port)]);
      expect(await cli.status).toBe(2);
      expect(cli.err).toEqual([
        `fastroai: Port ${port} on 127.0.0.1 is in use: pass another with --port (0 picks a free one)`,
        "Run 'fastroai inspect --help' for help.",
      ]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // The store it had opened was closed again.
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
  });

  it('bound off loopback without a token, makes one and prints it in the URL', async () => {
    const cli = runCliInProcess(['inspect', '--store', `sqlite:${dbPath}`, '--port', '0', '--host', '0.0.0.0']);
    const url = new URL(await cli.url());
    cli.stop();
    expect(await cli.status).toBe(0);
    expect(url.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(cli.out.join('\n')).toContain('the page requires this token; pass --token to choose it');
  });

  it('serves the runs of a Redis store under its prefix', async () => {
    const prefix = `fastroai-inspect-${randomUUID()}:`;
    const admin = new Redis({ host: '127.0.0.1', port: 6379 });
    try {
      await new RedisRunStore({ connection: admin, prefix, warnIfNotDurable: false }).createRun(makeRunRecord('run-in-redis', { pipeline: 'triage' }));
      const cli = runCliInProcess(['inspect', '--store', `redis://127.0.0.1:6379?prefix=${prefix}`, '--port', '0']);
      const text = await (await fetch(await cli.url())).text();
      cli.stop();
      expect(await cli.status).toBe(0);
      expect(text).toContain('triage');
      expect(cli.out[0]).toBe(`fastroai inspector on redis:${prefix} (redis://127.0.0.1:6379?prefix=${prefix})`);
    } finally {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  });

  it('prints its help', async () => {
    const cli = runCliInProcess(['inspect', '--help']);
    expect(await cli.status).toBe(0);
    expect(cli.out.join('\n')).toMatch(/^Usage: fastroai inspect \[--store <url>\]/);
    expect(cli.out.join('\n')).toContain('sqlite:.fastroai/runs.db');
  });
});
