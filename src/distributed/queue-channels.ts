/** The default BullMQ queue of step jobs. */
export const DEFAULT_QUEUE_NAME = 'fastroai-steps';
/** BullMQ's default key prefix. */
export const DEFAULT_PREFIX = 'bull';

/**
 * The Redis pub/sub channels of one queue, beside BullMQ's own keys: workers publish step
 * progress on `progress`, callers publish cancellations on `cancel`.
 *
 * Pub/sub rather than `job.updateProgress`: progress then never goes through BullMQ's events
 * stream, which is trimmed (about 10,000 entries) and would push out the completion events
 * callers wake up on; and a message costs one PUBLISH, not a job hash write plus a stream entry.
 * Every caller of the queue receives every progress message (and filters by job id): give
 * separate tenants separate queues.
 */
export function queueChannels(prefix: string, queueName: string): { progress: string; cancel: string } {
  return { progress: `${prefix}:${queueName}:fastroai:progress`, cancel: `${prefix}:${queueName}:fastroai:cancel` };
}
