import { StoreUnavailableError } from '../errors/store-unavailable-error';
import type { RunRecord, RunStore } from '../store/run-store';
import { RunsByStore } from './runs-by-store';

/** A claimed run's stored state before a resume's claim (see DurableRun.putBack). */
export type RunStateBefore = Pick<RunRecord, 'status' | 'input' | 'error' | 'conversationState'>;

/** The state a resume that started nothing could not put back, and the epoch of its claim. */
export interface UnrestoredRun {
  before: RunStateBefore;
  epoch: number;
}

/** An abandoned lease: the owner id it is held under, and what a resume that started nothing could not put back. */
interface AbandonedLease {
  owner: string;
  unrestored: UnrestoredRun | undefined;
}

/** How many abandoned leases a store object keeps noted (the oldest is forgotten first). */
const MAX_NOTED_PER_STORE = 1_000;

/**
 * The leases of this process's runs that ended without releasing them (their store failed), by
 * store object, then run id: the owner id each was held under.
 */
const abandoned = new RunsByStore<AbandonedLease>();

/**
 * Notes that run `runId` of `store` ended in this process still leased to `owner` (the store
 * failed as it ended). A resume in this process then claims it as that owner: the store lets an
 * owner claim its own live lease again (a new epoch fences whatever the ended run left), so it
 * need not wait for the lease to expire. Another process still waits: it cannot know the run ended.
 *
 * @param unrestored the run's state before the claim of a resume that started nothing and could
 *   not put it back: the next resume here takes the run as it was, not as `running`, if nobody
 *   claimed it since (the next claim's epoch is that claim's + 1)
 */
export function noteAbandonedLease(store: RunStore, runId: string, owner: string, unrestored?: UnrestoredRun): void {
  abandoned.set(store, runId, { owner, unrestored }, MAX_NOTED_PER_STORE);
}

/**
 * Claims run `runId` with `claim`, as the owner of its abandoned lease in this process when there
 * is one (see {@link noteAbandonedLease}), else as `newOwner`. The note is taken at once (of two
 * resumes at the same time, one claims as that owner, the other gets RunLockedError as from
 * another process), and noted again when the store was unavailable (the next resume tries again).
 */
export async function claimAsAbandonedOwner<T>(
  store: RunStore,
  runId: string,
  newOwner: string,
  claim: (owner: string) => Promise<T>,
): Promise<{ owner: string; claimed: T; unrestored?: UnrestoredRun }> {
  const noted = abandoned.get(store, runId);
  if (noted !== undefined) abandoned.delete(store, runId);
  const owner = noted?.owner ?? newOwner;
  try {
    const claimed = await claim(owner);
    return noted?.unrestored === undefined ? { owner, claimed } : { owner, claimed, unrestored: noted.unrestored };
  } catch (error) {
    if (noted !== undefined && StoreUnavailableError.isInstance(error) && abandoned.get(store, runId) === undefined) noteAbandonedLease(store, runId, noted.owner, noted.unrestored);
    throw error;
  }
}
