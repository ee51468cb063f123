/**
 * The store goes away mid-run (issue 9), SQLite: another connection holds the write lock
 * longer than the store's busy timeout, or the store's handle is closed under the run. The run
 * must fail with `StoreUnavailableError` naming the store and the run, in bounded time, without
 * crashing the process (jest fails a test that leaves a rejection unhandled) or hanging, and
 * with nothing recorded twice: a resume, once the store is back, runs only what was not recorded.
 */
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StoreUnavailableError, type RunStore } from 'fastroai';
import { SqliteRunStore } from 'fastroai/sqlite';
import { recordsOf, resumeOnceLeaseExpired, startRunInB, storeAwayChain as chain, type Outcome } from './support/store-away-chain';

jest.setTimeout(60_000);

/** Opens a fresh SqliteRunStore on `path` (for the shared helpers, which close it). */
const openAt = (path: string) => () => new SqliteRunStore({ path });

/** The run's rejection; 'hung' when it did not settle; fails the test when it resolved. */
function rejectionIn(outcome: Outcome): unknown {
  if (outcome === 'hung') return outcome;
  if ('rejected' in outcome) return outcome.rejected;
  throw new Error(`expected the run to reject, but it resolved with ${JSON.stringify(outcome.resolved)}`);
}

describe('the store goes away (SQLite)', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fastroai-away-'));
    path = join(dir, 'runs.db');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with StoreUnavailableError when another connection holds the write lock past busy_timeout; a resume runs only what was not recorded', async () => {
    const store = new SqliteRunStore({ path, busyTimeoutMs: 50 });
    const runId = 'locked-out';
    const { ledger, outcome, openGate } = await startRunInB(store, runId);

    // Another process's long write transaction: BEGIN EXCLUSIVE, held until the run gave up.
    const locker = new BetterSqlite3(path);
    locker.exec('BEGIN EXCLUSIVE');
    openGate();
    const error = rejectionIn(await outcome);
    locker.exec('ROLLBACK');
    locker.close();
    await store.close();

    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ storeName: `sqlite:${path}`, runId });
    expect((error as Error).message).toContain(`sqlite:${path}`);
    expect((error as Error).message).toContain(`'${runId}'`);
    expect(ledger).toEqual({ a: 1, b: 1 });
    expect(await recordsOf(openAt(path), runId)).toEqual(['a@1:completed']);

    // The store is back: the resume restores a, runs b again (never recorded) and c.
    const resumed = await resumeOnceLeaseExpired(chain(ledger, Promise.resolve(), () => undefined), openAt(path), runId);
    expect(resumed.output).toBe('abc');
    expect(resumed.usage?.totalCostMicrocents).toBe(700);
    expect(ledger).toEqual({ a: 1, b: 2, c: 1 });
    expect(await recordsOf(openAt(path), runId)).toEqual(['a@1:completed', 'b@1:completed', 'c@1:completed']);
  });

  it('fails with StoreUnavailableError when the store is closed under the run; a resume runs only what was not recorded', async () => {
    const store: RunStore = new SqliteRunStore({ path });
    const runId = 'closed-under';
    const { ledger, outcome, openGate } = await startRunInB(store, runId);

    await store.close();
    openGate();
    const error = rejectionIn(await outcome);

    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ storeName: `sqlite:${path}`, runId });
    expect(ledger).toEqual({ a: 1, b: 1 });
    expect(await recordsOf(openAt(path), runId)).toEqual(['a@1:completed']);

    const resumed = await resumeOnceLeaseExpired(chain(ledger, Promise.resolve(), () => undefined), openAt(path), runId);
    expect(resumed.output).toBe('abc');
    expect(ledger).toEqual({ a: 1, b: 2, c: 1 });
    expect(await recordsOf(openAt(path), runId)).toEqual(['a@1:completed', 'b@1:completed', 'c@1:completed']);
  });

  // SQLite would go on writing to a deleted (or replaced) file through its open handle and lose
  // every record silently (sqlite.org/howtocorrupt.html §2.4): the store checks the file first.
  it('fails with StoreUnavailableError, or keeps what it recorded, when the database file is deleted mid-run', async () => {
    const store = new SqliteRunStore({ path });
    const runId = 'file-deleted';
    const run = await startRunInB(store, runId);

    for (const file of readdirSync(dir)) unlinkSync(join(dir, file));
    run.openGate();
    const outcome = await run.outcome;
    await store.close();

    expect(outcome).not.toBe('hung');
    if (outcome !== 'hung' && 'rejected' in outcome) {
      expect(StoreUnavailableError.isInstance(outcome.rejected)).toBe(true);
      expect(outcome.rejected).toMatchObject({ storeName: `sqlite:${path}`, runId });
    } else {
      // The run says it recorded everything: the file at the path must hold it.
      expect(await recordsOf(openAt(path), runId)).toEqual(['a@1:completed', 'b@1:completed', 'c@1:completed']);
    }
  });
});
