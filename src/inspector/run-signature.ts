import { createHash } from 'node:crypto';
import type { RunRecord, StepRecord } from '../store/run-store';

/**
 * A short digest of what a run page shows, so the live updates send a new page body only when
 * something changed: the run's status, times, cost, owner and epoch, how many step records it
 * has, and the inspector's own notice and ownership of it. Step records are never rewritten
 * (first write wins), so their count tells new ones apart.
 */
export function runSignatureOf(run: RunRecord, steps: readonly StepRecord[], extra: string): string {
  const text = [run.status, run.updatedAt, run.costMicrocents, run.owner, run.epoch, run.leaseUntil > Date.now(), steps.length, extra].join('\u0000');
  return createHash('sha1').update(text).digest('base64url').slice(0, 16);
}
