import { StoreUnavailableError } from '../errors/store-unavailable-error';
import type { RunStore } from '../store/run-store';
import { RunsByStore } from './runs-by-store';

/** How many abandoned leases a store object keeps noted (the oldest is forgotten first). */
const MAX_NOTED_PER_STORE = 1_000;

/**
 * The leases of this process's runs that ended without releasing them (their store failed), by
 * store object, then run id: the owner id each was held under.
 */
const abandoned = new RunsByStore<string>();

/**
 * Notes that run `runId` of `store` ended in this process still leased to `owner` (the store
 * failed as it ended). A resume in this process then claims it as that owner: the store lets an
 * owner claim its own live lease again (a new epoch fences whatever the ended run left), so it
 * need not wait for the lease to expire. Another process still waits: it cannot know the run ended.
 */
export function noteAbandonedLease(store: RunStore, runId: string, owner: string): void {
  abandoned.set(store, runId, owner, MAX_NOTED_PER_STORE);
}

/**
 * Claims run `runId` with `claim`, as the owner of its abandoned lease in this process when there
 * is one (see {@link noteAbandonedLease}), else as `newOwner`. The note is taken at once (of two
 * resumes at the same time, one claims as that owner, the other gets RunLockedError as from
 * another process), and noted again when the store was unavailable (the next resume tries again).
 */
export async function claimAsAbandonedOwner<T>(store: RunStore, runId: string, newOwner: string, claim: (owner: string) => Promise<T>): Promise<{ owner: string; claimed: T }> {
  const noted = abandoned.get(store, runId);
  if (noted !== undefined) abandoned.delete(store, runId);
  const owner = noted ?? newOwner;
  try {
    return { owner, claimed: await claim(owner) };
  } catch (error) {
    if (noted !== undefined && StoreUnavailableError.isInstance(error) && abandoned.get(store, runId) === undefined) noteAbandonedLease(store, runId, noted);
    throw error;
  }
}
