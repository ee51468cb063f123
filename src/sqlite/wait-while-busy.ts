import { setImmediate as nextTurn } from 'node:timers/promises';
import { isBusy } from './retry-while-busy';

/** Retries after a turn of the event loop before the waits in ms begin: a record batch holds the lock for about 0.1 ms. */
const TURNS_FIRST = 3;

/** The longest wait between two attempts, in ms. */
const LONGEST_WAIT_MS = 8;

/**
 * Runs `work` (synchronous better-sqlite3 calls) and, while it fails with `SQLITE_BUSY` (another
 * process holds the write lock), runs it again later, for up to `timeoutMs`; then its last
 * error is thrown. Between attempts the event loop is free: SQLite's own `busy_timeout` sleeps
 * inside the call (1 ms and up a wait), and a process that shares the file with others would
 * stop everything else meanwhile (two workers recording into one file hit the lock in about a
 * fifth of their batches). The first attempts again come after a turn of the event loop each,
 * then after 1, 2, 4 and 8 ms.
 */
export async function waitWhileBusy<T>(work: () => T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let waitMs = 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
    }
    if (attempt <= TURNS_FIRST) {
      await nextTurn();
    } else {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      waitMs = Math.min(2 * waitMs, LONGEST_WAIT_MS);
    }
  }
}
