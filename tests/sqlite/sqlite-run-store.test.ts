import { type ChildProcess, execFile, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { FastroAIError, StoreUnavailableError } from 'fastroai';
import { SqliteRunStore } from 'fastroai/sqlite';
import { describeRunStoreContract, makeRunRecord, makeStepRecord } from '../store/run-store-contract';

/** The child's next message; rejects if it exits first. */
function nextMessage(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`child ${child.pid} exited with ${code} before answering`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message);
    });
  });
}

function makeTempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'fastroai-sqlite-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describeRunStoreContract('SqliteRunStore', async ({ now }) => {
  const temp = makeTempDir();
  return { store: new SqliteRunStore({ path: join(temp.dir, 'runs.db'), now }), cleanup: async () => temp.remove() };
});

describe('SqliteRunStore', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let path: string;

  beforeEach(() => {
    temp = makeTempDir();
    path = join(temp.dir, 'runs.db');
  });

  afterEach(() => temp.remove());

  it('refuses options without a path, and a misspelt option, before opening anything', () => {
    expect(() => new SqliteRunStore({} as never)).toThrow(new TypeError('SqliteRunStore needs { path }: the database file (created if absent), got undefined'));
    expect(() => new SqliteRunStore(undefined as never)).toThrow(/^SqliteRunStore expects options \{ path, busyTimeoutMs, attempts, synchronous, now \}, got undefined$/);
    expect(() => new SqliteRunStore({ path, busyTimeout: 10 } as never)).toThrow(/^SqliteRunStore options: unknown option 'busyTimeout' .*Did you mean 'busyTimeoutMs'\?$/);
  });

  it('keeps runs and records in the file: a store opened later reads them', async () => {
    const first = new SqliteRunStore({ path });
    await first.createRun(makeRunRecord('r1'));
    await first.recordSteps('r1', 1, [makeStepRecord('a'), makeStepRecord('b')]);
    await first.close();
    const second = new SqliteRunStore({ path });
    expect(await second.getRun('r1')).toStrictEqual({ run: makeRunRecord('r1'), steps: [makeStepRecord('a'), makeStepRecord('b')] });
    expect(second.name).toBe(`sqlite:${path}`);
    await second.close();
  });

  it('adds a table of a newer version to a file an older version created (fastroai_cancel_requests)', async () => {
    const first = new SqliteRunStore({ path });
    await first.createRun(makeRunRecord('r1'));
    await first.close();
    const db = new BetterSqlite3(path);
    db.exec('DROP TABLE fastroai_cancel_requests'); // the file as fastroai before requestCancel made it
    db.close();
    const second = new SqliteRunStore({ path });
    try {
      expect(await second.requestCancel('r1', 'stop')).toBe('requested');
      expect(await second.cancelRequested('r1', 1)).toBe('stop');
    } finally {
      await second.close();
    }
  });

  it('uses WAL mode and creates an index for listRuns', async () => {
    const store = new SqliteRunStore({ path });
    const db = new BetterSqlite3(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const plan = db.prepare('EXPLAIN QUERY PLAN SELECT * FROM fastroai_runs WHERE pipeline = ? ORDER BY created_at DESC, run_id DESC LIMIT 5').all('p');
      expect(JSON.stringify(plan)).toMatch(/fastroai_runs_pipeline_newest/);
      expect(JSON.stringify(plan)).not.toMatch(/TEMP B-TREE/);
    } finally {
      db.close();
      await store.close();
    }
  });

  it('keeps a run with an unknown model in its usage, and a count beyond 2^31', async () => {
    const store = new SqliteRunStore({ path });
    await store.createRun(makeRunRecord('r1', { costMicrocents: 2 ** 40 }));
    const record = makeStepRecord('a', 1, { usage: { ...makeStepRecord('a').usage, model: undefined } });
    await store.recordSteps('r1', 1, [record]);
    const stored = await store.getRun('r1');
    expect(stored?.steps).toStrictEqual([record]);
    expect(await store.addRunCost('r1', 1)).toBe(2 ** 40 + 1);
    await store.close();
  });

  it('fails with StoreUnavailableError after bounded retries while another connection holds the write lock, then works again', async () => {
    const store = new SqliteRunStore({ path, busyTimeoutMs: 10, attempts: 3 });
    await store.createRun(makeRunRecord('r1'));
    const locker = new BetterSqlite3(path);
    locker.exec('BEGIN IMMEDIATE');
    try {
      const error = await store.recordSteps('r1', 1, [makeStepRecord('a')]).catch((thrown: unknown) => thrown);
      expect(StoreUnavailableError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ storeName: `sqlite:${path}`, runId: 'r1' });
      expect((error as StoreUnavailableError).cause).toMatchObject({ code: 'SQLITE_BUSY' });
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(await store.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
    await store.close();
  });

  it('rides out a lock held for less than its retries last', async () => {
    const store = new SqliteRunStore({ path, busyTimeoutMs: 5, attempts: 6 });
    await store.createRun(makeRunRecord('r1'));
    const locker = new BetterSqlite3(path);
    locker.exec('BEGIN IMMEDIATE');
    const release = setTimeout(() => {
      locker.exec('ROLLBACK');
      locker.close();
    }, 60);
    try {
      expect(await store.addRunCost('r1', 7)).toBe(7);
    } finally {
      clearTimeout(release);
      if (locker.open) locker.close();
      await store.close();
    }
  });

  it("waits for another connection's write lock without blocking the event loop: a lock released by a timer meanwhile is ridden out in one attempt", async () => {
    // With SQLite's own busy_timeout the call would sleep inside SQLite for the whole 2 s (the
    // timer could not fire), and fail: one attempt only.
    const store = new SqliteRunStore({ path, busyTimeoutMs: 2_000, attempts: 1 });
    await store.createRun(makeRunRecord('r1'));
    const locker = new BetterSqlite3(path);
    locker.exec('BEGIN IMMEDIATE');
    let released = false;
    const release = setTimeout(() => {
      locker.exec('ROLLBACK');
      released = true;
    }, 20);
    try {
      // A batch (BEGIN IMMEDIATE), a single record (one statement) and a cost (one UPDATE), all waiting together.
      const [batch, single, cost] = await Promise.all([
        store.recordSteps('r1', 1, [makeStepRecord('a'), makeStepRecord('b')]),
        store.recordSteps('r1', 1, [makeStepRecord('c')]),
        store.addRunCost('r1', 3),
      ]);
      expect(released).toBe(true);
      expect([batch, single, cost]).toEqual([['recorded', 'recorded'], ['recorded'], 3]);
    } finally {
      clearTimeout(release);
      locker.close();
      await store.close();
    }
  });

  it('opens a new file while another process writes to it in rollback mode (switching to WAL gets SQLITE_BUSY at once there)', async () => {
    // Two workers opening a fresh file together hit this: SQLite skips busy_timeout for it.
    const writer = `
      const db = new (require('better-sqlite3'))(process.argv[1]);
      db.exec('CREATE TABLE other (x)');
      db.exec('BEGIN IMMEDIATE');
      db.exec('INSERT INTO other VALUES (1)');
      process.stdout.write('locked');
      setTimeout(() => (db.exec('COMMIT'), db.close()), 300);`;
    const child = spawn(process.execPath, ['-e', writer, path], { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    const store = new SqliteRunStore({ path });
    await store.createRun(makeRunRecord('after-lock'));
    expect((await store.getRun('after-lock'))?.run.runId).toBe('after-lock');
    expect(new BetterSqlite3(path).pragma('journal_mode', { simple: true })).toBe('wal');
    await store.close();
    expect(await exited).toBe(0);
  });

  it('throws StoreUnavailableError when the file cannot be opened', () => {
    const missing = join(temp.dir, 'no', 'such', 'dir', 'runs.db');
    let thrown: unknown;
    try {
      new SqliteRunStore({ path: missing });
    } catch (error) {
      thrown = error;
    }
    expect(StoreUnavailableError.isInstance(thrown)).toBe(true);
    expect(thrown).toMatchObject({ storeName: `sqlite:${missing}` });
    expect((thrown as Error).message).toMatch(/directory does not exist/);
  });

  it('rejects calls after close with StoreUnavailableError', async () => {
    const store = new SqliteRunStore({ path });
    await store.close();
    expect(StoreUnavailableError.isInstance(await store.getRun('r1').catch((thrown: unknown) => thrown))).toBe(true);
    await expect(store.close()).resolves.toBeUndefined();
  });

  /** Starts one child per owner on the file; once all are ready, lets them act at once. */
  async function raceChildren(mode: 'claim' | 'record', runId: string, contenders: number): Promise<{ outcome: string; epoch?: number }[]> {
    const script = join(__dirname, 'support', 'claim-run-child.ts');
    const children = Array.from({ length: contenders }, (_, index) =>
      fork(script, [path, runId, `child-${index}`, mode, String(index + 1)], {
        execArgv: ['-r', 'ts-node/register/transpile-only'],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      }),
    );
    // Every child has opened the store before any acts: then all act at once.
    expect(await Promise.all(children.map(nextMessage))).toEqual(children.map(() => 'ready'));
    const answers = children.map(nextMessage);
    for (const child of children) child.send('go');
    return (await Promise.all(answers)) as { outcome: string; epoch?: number }[];
  }

  it('lets exactly one of several processes win a race to claim a run', async () => {
    const setup = new SqliteRunStore({ path });
    await setup.createRun(makeRunRecord('race', { leaseUntil: 0 }));
    await setup.close();
    const outcomes = await raceChildren('claim', 'race', 4);
    const winners = outcomes.filter((outcome) => outcome.outcome === 'claimed');
    expect(winners).toHaveLength(1);
    expect(winners[0].epoch).toBe(2);
    expect(outcomes.filter((outcome) => outcome.outcome === 'locked')).toHaveLength(3);
    const check = new SqliteRunStore({ path });
    expect((await check.getRun('race'))?.run.epoch).toBe(2);
    await check.close();
  }, 180_000);

  it('records exactly one of several processes writing the same step record at once', async () => {
    const setup = new SqliteRunStore({ path });
    await setup.createRun(makeRunRecord('race'));
    await setup.close();
    const outcomes = await raceChildren('record', 'race', 3);
    expect(outcomes.map((outcome) => outcome.outcome).sort()).toEqual(['duplicate', 'duplicate', 'recorded']);
    const check = new SqliteRunStore({ path });
    const steps = (await check.getRun('race'))!.steps;
    expect(steps).toHaveLength(1);
    expect(steps[0].workerId).toBe(`child-${outcomes.findIndex((outcome) => outcome.outcome === 'recorded')}`);
    await check.close();
  }, 180_000);
});

describe('loading better-sqlite3', () => {
  afterEach(() => {
    jest.dontMock('better-sqlite3');
    jest.resetModules();
  });

  it('names the package to install when better-sqlite3 is missing', () => {
    jest.resetModules();
    jest.doMock('better-sqlite3', () => {
      throw Object.assign(new Error("Cannot find module 'better-sqlite3'"), { code: 'MODULE_NOT_FOUND' });
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy that sees the mock
    const { SqliteRunStore: FreshStore } = require('../../src/sqlite/sqlite-run-store') as typeof import('../../src/sqlite/sqlite-run-store');
    let thrown: unknown;
    try {
      new FreshStore({ path: ':memory:' });
    } catch (error) {
      thrown = error;
    }
    expect(FastroAIError.isInstance(thrown)).toBe(true);
    expect((thrown as Error).message).toContain('npm install better-sqlite3@12');
  });

  it('says how to rebuild better-sqlite3 when its native module is missing (an install that skipped its build)', () => {
    jest.resetModules();
    // What better-sqlite3's `bindings` throws from `new Database()` when the compiled module is absent.
    jest.doMock('better-sqlite3', () =>
      class {
        constructor() {
          throw new Error('Could not locate the bindings file. Tried:\n → /app/node_modules/better-sqlite3/build/better_sqlite3.node');
        }
      },
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy that sees the mock
    const { SqliteRunStore: FreshStore } = require('../../src/sqlite/sqlite-run-store') as typeof import('../../src/sqlite/sqlite-run-store');
    expect(() => new FreshStore({ path: ':memory:' })).toThrow(
      /^SqliteRunStore: better-sqlite3 is installed but its native module is missing or built for another Node\.js \(Could not locate the bindings file\. Tried:\)\. Run `npm rebuild better-sqlite3`/,
    );
  });

  it('is not loaded by importing fastroai or fastroai/sqlite', async () => {
    const probe =
      "require('fastroai'); require('fastroai/sqlite');" +
      "process.stdout.write(String(Object.keys(require.cache).filter((key) => key.includes('node_modules/better-sqlite3/')).length));";
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', probe],
      { cwd: join(__dirname, '..', '..'), timeout: 60_000 },
    );
    expect(stdout).toBe('0');
  }, 70_000);
});
