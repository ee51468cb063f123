import type { RunStore } from '../store/run-store';

/**
 * The leases of this process's runs that ended without releasing them (their store failed), by
 * store object, then run id: the owner id each was held under.
 */
const abandoned = new WeakMap<RunStore, Map<string, string>>();

/**
 * Notes that run `runId` of `store` ended in this process still leased to `owner` (the store
 * failed as it ended). A resume in this process then claims it as that owner: the store lets an
 * owner claim its own live lease again (a new epoch fences whatever the ended run left), so it
 * need not wait for the lease to expire. Another process still waits: it cannot know the run ended.
 */
export function noteAbandonedLease(store: RunStore, runId: string, owner: string): void {
  let runs = abandoned.get(store);
  if (runs === undefined) abandoned.set(store, (runs = new Map()));
  runs.set(runId, owner);
}

/** The owner id of run `runId`'s abandoned lease in this process (see {@link noteAbandonedLease}), taken once. */
export function takeAbandonedLease(store: RunStore, runId: string): string | undefined {
  const runs = abandoned.get(store);
  const owner = runs?.get(runId);
  if (owner !== undefined) runs!.delete(runId);
  return owner;
}
