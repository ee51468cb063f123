/** The items watched on one signal, and its one listener. */
interface Watched<T> {
  readonly items: Set<T>;
  readonly listener: () => void;
}

/**
 * Calls `onAbort` for each item watched on a signal when it aborts, with ONE listener per signal
 * however many items it has: `AbortSignal.addEventListener` scans the signal's listeners for a
 * duplicate, so a listener per step of a wide run (every step shares the run's signal) costs
 * O(steps²) (a 10,000-step fan-out: about half a second of the caller's CPU).
 */
export class AbortWatch<T> {
  private readonly watched = new Map<AbortSignal, Watched<T>>();

  constructor(private readonly onAbort: (item: T, reason: unknown) => void) {}

  /**
   * Watches `item` on `signal` until the returned function is called; a signal aborted already
   * calls `onAbort` at once (and returns a no-op).
   */
  watch(signal: AbortSignal, item: T): () => void {
    if (signal.aborted) {
      this.onAbort(item, signal.reason);
      return () => undefined;
    }
    let watched = this.watched.get(signal);
    if (watched === undefined) {
      const items = new Set<T>();
      const listener = () => {
        this.watched.delete(signal);
        for (const each of items) this.onAbort(each, signal.reason);
      };
      watched = { items, listener };
      this.watched.set(signal, watched);
      signal.addEventListener('abort', listener, { once: true });
    }
    watched.items.add(item);
    const { items, listener } = watched;
    return () => {
      if (!items.delete(item) || items.size > 0 || this.watched.get(signal)?.items !== items) return;
      this.watched.delete(signal);
      signal.removeEventListener('abort', listener);
    };
  }
}
