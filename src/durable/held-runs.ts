import type { RunStore } from '../store/run-store';
import { RunsByStore } from './runs-by-store';

/** The runs this process holds, by store object and run id: how to cancel each. */
const heldRuns = new RunsByStore<(reason: string) => void>();

/**
 * Notes that this process holds run `runId` of `store` and how to cancel it, until the returned
 * function is called (the run ended). The inspector's Cancel of a run that the same process
 * executes, through the same store object, then takes effect at once, not at the run's next
 * lease renewal (`store.requestCancel`, for a run another process holds).
 */
export function holdRun(store: RunStore, runId: string, cancel: (reason: string) => void): () => void {
  heldRuns.set(store, runId, cancel);
  return () => heldRuns.delete(store, runId, cancel);
}

/** Cancels run `runId` of `store` when this process holds it; false when it does not. */
export function cancelHeldRun(store: RunStore, runId: string, reason: string): boolean {
  const cancel = heldRuns.get(store, runId);
  if (cancel === undefined) return false;
  cancel(reason);
  return true;
}
