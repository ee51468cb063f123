import { systemClock, type Clock } from './clock';

/** How a promise settled. */
export type Settlement<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * Waits for `promise` to settle, at most `ms` on `clock`: answers how it settled, or undefined
 * when it had not by then (it is still observed: a late rejection is not unhandled).
 *
 * @param clock the system clock by default: the grace given to an agent or a call that was
 *   aborted is real time (an HTTP request settling), also in a run on virtual time, which would
 *   otherwise wait for a test to move its clock
 */
export function settledWithin<T>(promise: PromiseLike<T>, ms: number, clock: Clock = systemClock): Promise<Settlement<T> | undefined> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(undefined), ms);
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve({ ok: true, value });
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        resolve({ ok: false, error });
      },
    );
  });
}
