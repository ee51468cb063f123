import type { RunStore } from '../store/run-store';

/**
 * A value kept in this process for a run of a store object: by store (let go with it, a
 * WeakMap), then by run id.
 */
export class RunsByStore<V> {
  private readonly byStore = new WeakMap<RunStore, Map<string, V>>();

  get(store: RunStore, runId: string): V | undefined {
    return this.byStore.get(store)?.get(runId);
  }

  /** Keeps `value` for the run, as the newest; past `maxPerStore` the store's oldest is let go. */
  set(store: RunStore, runId: string, value: V, maxPerStore = Infinity): void {
    let runs = this.byStore.get(store);
    if (runs === undefined) this.byStore.set(store, (runs = new Map()));
    runs.delete(runId);
    runs.set(runId, value);
    if (runs.size > maxPerStore) runs.delete(runs.keys().next().value!);
  }

  /** Lets the run's value go (only when it is `value`, when given). */
  delete(store: RunStore, runId: string, value?: V): void {
    const runs = this.byStore.get(store);
    if (runs !== undefined && (value === undefined || runs.get(runId) === value)) runs.delete(runId);
  }
}
