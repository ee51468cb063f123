import { createHash } from 'node:crypto';
import { canonicalFingerprint } from '../durable/fingerprint-of';

/** Digests computed so far, by fingerprint (a process has few pipelines; bounded anyway). */
const digests = new Map<string, string>();
const DIGESTS_KEPT = 64;

/**
 * A short digest of a graph fingerprint (SHA-256, hex), what a step's job carries instead of
 * the fingerprint itself: the fingerprint is the graph as JSON, O(steps) bytes, and sending it
 * with every job made a wide run's jobs O(steps²) bytes through Redis (a 10,000-step fan-out:
 * ~150 KB per job). Of the fingerprint's canonical form: a caller and a worker that declare the
 * same graph's steps in another order agree. Computed once per fingerprint.
 */
export function fingerprintDigest(fingerprint: string): string {
  const known = digests.get(fingerprint);
  if (known !== undefined) return known;
  const digest = createHash('sha256').update(canonicalFingerprint(fingerprint)).digest('hex');
  if (digests.size >= DIGESTS_KEPT) digests.delete(digests.keys().next().value!);
  digests.set(fingerprint, digest);
  return digest;
}
