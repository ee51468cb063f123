import type { Clock, TimerHandle } from '../clock/clock';

/** A {@link Clock} whose time moves only when a test advances it. */
export interface VirtualClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, earliest first
   * (timers due at the same time: in the order they were set), each at its own time. Timers a
   * callback sets fire too when they fall due within the step.
   */
  advance(ms: number): void;
  /** How many timers are set and not yet fired or cleared. */
  readonly pendingTimers: number;
  /**
   * Resolves once at least `count` timers are pending (at once when they are): a step's
   * timeout or a retry's backoff is set asynchronously, after the attempt began or failed (and
   * a run with a store holds a lease renewal timer too). Rejects when they are not within
   * `realMs` of real time, so a test that waits for a timer never set fails instead of hanging.
   * @param count @default 1
   * @param realMs @default 5000
   */
  whenTimersPending(count?: number, realMs?: number): Promise<void>;
}

/** Options of {@link createVirtualClock}. */
export interface VirtualClockOptions {
  /** The wall-clock time (`now()`, epoch ms) at virtual time 0. @default 1_700_000_000_000 */
  startAt?: number;
}

/**
 * A clock on virtual time, for tests: timeouts, retry backoffs and lease renewals wait until
 * the test calls `advance`, and the times a run records are `startAt` plus the virtual time.
 * Pass it to a run as the `clock` option of `execute`, `run` or `resume`:
 *
 * @example
 * const clock = createVirtualClock();
 * const result = pipeline.execute(input, deps, { clock, store: new MemoryRunStore() });
 * await clock.whenTimersPending(2); // the lease renewal and the step's 30 s timeout are set
 * clock.advance(30_000);          // …and fires now, not in 30 s
 * await expect(result).rejects.toThrow(StepTimeoutError);
 */
export function createVirtualClock(options: VirtualClockOptions = {}): VirtualClock {
  const startAt = options.startAt ?? 1_700_000_000_000;
  let elapsedMs = 0;
  let lastId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let waiters: Array<() => void> = [];

  const nextDue = (until: number): [number, { at: number; callback: () => void }] | undefined => {
    let due: [number, { at: number; callback: () => void }] | undefined;
    // Map order is insertion order: the first of equal times is the one set first.
    for (const entry of timers) if (entry[1].at <= until && (due === undefined || entry[1].at < due[1].at)) due = entry;
    return due;
  };

  return {
    now: () => startAt + elapsedMs,
    monotonicMs: () => elapsedMs,
    setTimeout(callback: () => void, ms: number): TimerHandle {
      const id = ++lastId;
      timers.set(id, { at: elapsedMs + Math.max(0, ms), callback });
      const waiting = waiters;
      waiters = [];
      for (const check of waiting) check();
      return id;
    },
    clearTimeout(handle: TimerHandle): void {
      timers.delete(handle as number);
    },
    advance(ms: number): void {
      if (!(ms >= 0)) throw new RangeError(`advance expects a number of ms >= 0, got ${String(ms)}`);
      const until = elapsedMs + ms;
      for (let due = nextDue(until); due !== undefined; due = nextDue(until)) {
        timers.delete(due[0]);
        elapsedMs = due[1].at;
        due[1].callback();
      }
      elapsedMs = until;
    },
    get pendingTimers(): number {
      return timers.size;
    },
    whenTimersPending(count = 1, realMs = 5000): Promise<void> {
      if (timers.size >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const giveUp = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter !== check);
          reject(new Error(`${timers.size} timer(s) pending on the virtual clock after ${realMs} ms, waited for ${count}`));
        }, realMs);
        const check = () => {
          if (timers.size < count) return void waiters.push(check);
          clearTimeout(giveUp);
          resolve();
        };
        waiters.push(check);
      });
    },
  };
}
