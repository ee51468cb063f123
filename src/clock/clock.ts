/** A timer handle of a {@link Clock}. */
export type TimerHandle = unknown;

/**
 * Where fastroai reads time and sets timers: wall-clock time for records, a monotonic reading
 * for durations, and timers for deadlines, backoffs and lease renewals. One provider, so tests
 * can run them on virtual time (`createVirtualClock` in `fastroai/testing`). A run takes one as
 * its `clock` option (`execute`, `run`, `resume`) and hands it to its cancel scopes (step
 * timeouts, retry backoffs), its step table (timings), its records (wall-clock times) and its
 * lease keeper; a store keeps its own `now` (`MemoryRunStore({ now })`).
 */
export interface Clock {
  /** Wall-clock time, epoch milliseconds (records, leases). */
  now(): number;
  /** A monotonic reading in milliseconds (durations, timings). */
  monotonicMs(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now`, `performance.now` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  // The global, not perf_hooks' object (a few ns cheaper a read): test runners' fake timers replace the global, and a
  // run's timings then move with their `setTimeout` and `Date.now`.
  monotonicMs: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
