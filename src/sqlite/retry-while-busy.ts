/**
 * Runs `work` again while SQLite answers SQLITE_BUSY, until `timeoutMs` has passed.
 *
 * SQLite skips its busy handler (and so `busy_timeout`) where waiting could deadlock: a
 * connection that already reads and needs to write while another holds the write lock gets
 * SQLITE_BUSY at once. Switching a new file to WAL is such a case, so two processes opening
 * a fresh file together could fail. Blocks the thread between tries, as `busy_timeout` does.
 */
export function retryWhileBusy<T>(work: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      Atomics.wait(SLEEPER, 0, 0, 5 + Math.random() * 20);
    }
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** True for SQLite's `SQLITE_BUSY` (and its extended codes): another connection holds a lock. */
export function isBusy(error: unknown): boolean {
  return String((error as { code?: unknown } | null)?.code).startsWith('SQLITE_BUSY');
}
