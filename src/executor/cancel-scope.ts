import { systemClock, type Clock, type TimerHandle } from '../clock/clock';
import { MAX_TIMER_MS } from '../config/max-timer-seconds';


/**
 * One deadline-and-cancellation scope: a run, a step attempt inside it, a model call inside
 * that. A scope aborts when its parent does (with the parent's reason), when its own deadline
 * passes, or when `abort` is called; its children abort with it, and every timer goes with it.
 *
 * Deadlines nest by value: a child's deadline is min(parent's, its own). When the parent's
 * comes first (or at the same time) the child sets no timer of its own: the parent's fires and
 * its reason wins, whichever timer would have been set first. So a model call bounded by the
 * step's own timeout fails as the step's timeout (retried at step level, API.md §2).
 *
 * The `AbortSignal` is created on first read: most steps never read `ctx.signal`, and an
 * `AbortController` costs more than the rest of a step's path.
 *
 * @example
 * const attempt = runScope.child(30_000, () => new StepTimeoutError(stepId, 30, 1));
 * const call = attempt.child(10_000);
 * await call.race(agent.run(message, { signal: call.signal }));
 * call.dispose();
 */
export class CancelScope {
  /** Absolute deadline on the clock's monotonic reading (ms); Infinity for none. */
  readonly deadlineMs: number;
  private readonly clock: Clock;
  private parent: CancelScope | undefined;
  private children: Set<CancelScope> | undefined;
  private controller: AbortController | undefined;
  private timer: TimerHandle | undefined;
  private abortedWith: { reason: unknown } | undefined;
  private detachExternal: (() => void) | undefined;
  /** Told the reason when this scope aborts (`race`, `sleep`). */
  private callback: ((reason: unknown) => void) | undefined;

  private constructor(parent: CancelScope | undefined, deadlineMs: number, clock: Clock) {
    this.parent = parent;
    this.deadlineMs = deadlineMs;
    this.clock = clock;
  }

  /**
   * A scope with no parent scope: aborted by `signal` (a caller's), if given.
   * @param clock where timers and the monotonic reading come from. @default the system clock
   */
  static root(signal?: AbortSignal, clock: Clock = systemClock): CancelScope {
    const scope = new CancelScope(undefined, Infinity, clock);
    if (signal !== undefined) {
      if (signal.aborted) scope.abort(signal.reason);
      else {
        const onAbort = () => scope.abort(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        scope.detachExternal = () => signal.removeEventListener('abort', onAbort);
      }
    }
    return scope;
  }

  /**
   * A child scope: aborted with this one, and after `timeoutMs` (when that comes before this
   * scope's deadline) with `timeoutReason()`.
   *
   * @param timeoutMs its own bound; undefined, 0 or Infinity: none
   * @param timeoutReason what it aborts with when its own deadline passes
   */
  child(timeoutMs?: number, timeoutReason?: () => unknown): CancelScope {
    const hasOwn = timeoutMs !== undefined && timeoutMs > 0 && timeoutMs !== Infinity;
    const ownDeadline = hasOwn ? this.clock.monotonicMs() + timeoutMs : Infinity;
    const scope = new CancelScope(this, Math.min(this.deadlineMs, ownDeadline), this.clock);
    if (this.abortedWith !== undefined) {
      scope.abortedWith = this.abortedWith;
      return scope;
    }
    (this.children ??= new Set()).add(scope);
    // The parent's deadline wins a tie: then the child needs no timer of its own.
    if (hasOwn && ownDeadline < this.deadlineMs && timeoutMs <= MAX_TIMER_MS) {
      scope.timer = this.clock.setTimeout(() => {
        scope.timer = undefined;
        scope.abort(timeoutReason === undefined ? new Error(`timed out after ${timeoutMs} ms`) : timeoutReason());
      }, timeoutMs);
    }
    return scope;
  }

  /** True once aborted (by itself, a parent, its deadline or its external signal). */
  get isAborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /** Why it aborted; undefined while it has not. */
  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** Aborts when the scope does, with its reason. Created on first read. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedWith !== undefined) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  /** Aborts this scope and its children with `reason` (a no-op once aborted), and clears their timers. */
  abort(reason: unknown): void {
    if (this.abortedWith !== undefined) return;
    this.abortedWith = { reason };
    this.clearOwn();
    this.controller?.abort(reason);
    const children = this.children;
    this.children = undefined;
    if (children !== undefined) for (const child of children) child.abort(reason);
    this.callback?.(reason);
  }

  /** Ends the scope without aborting it: its timer is cleared and its parent forgets it. */
  dispose(): void {
    this.clearOwn();
    const children = this.children;
    this.children = undefined;
    if (children !== undefined) for (const child of children) child.dispose();
  }

  /** Waits `ms` (at most 2^31-1), or rejects with the scope's reason as soon as it aborts. */
  sleep(ms: number): Promise<void> {
    if (this.abortedWith !== undefined) return Promise.reject(this.abortedWith.reason);
    if (!(ms > 0)) return Promise.resolve();
    const waiter = this.child(Math.min(ms, MAX_TIMER_MS), () => SLEPT);
    return new Promise<void>((resolve, reject) => {
      waiter.callback = (reason) => (reason === SLEPT ? resolve() : reject(reason));
    });
  }

  /** Settles like `promise`, or rejects with the scope's reason as soon as it aborts (`promise` is then observed and ignored). */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.abortedWith !== undefined) {
      promise.catch(() => undefined);
      return Promise.reject(this.abortedWith.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const listener = this.onAbort(reject);
      promise.then(
        (value) => {
          listener.dispose();
          resolve(value);
        },
        (error: unknown) => {
          listener.dispose();
          reject(error);
        },
      );
    });
  }

  /** Calls `callback` with the reason when the scope aborts; dispose the result to stop listening. */
  private onAbort(callback: (reason: unknown) => void): CancelScope {
    const listener = new CancelScope(this, this.deadlineMs, this.clock);
    listener.callback = callback;
    (this.children ??= new Set()).add(listener);
    return listener;
  }

  private clearOwn(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.detachExternal?.();
    this.detachExternal = undefined;
    this.parent?.children?.delete(this);
    this.parent = undefined;
  }
}

/** The reason a sleep's own timer aborts with: it is a wake-up, not a failure. */
const SLEPT = Symbol('slept');
