/** The default BullMQ queue of step jobs. */
export const DEFAULT_QUEUE_NAME = 'fastroai-steps';
/** BullMQ's default key prefix. */
export const DEFAULT_PREFIX = 'bull';

/** The Redis pub/sub channels of one queue (see {@link queueChannels}). */
export interface QueueChannels {
  /** Workers → callers: a step's attempt started, an attempt or a model call is retried. */
  progress: string;
  /** Workers → callers: the steps whose records a worker just wrote, and the jobs that failed (the callers' wake-up). */
  ended: string;
  /** Callers → workers: stop the step of this job. */
  cancel: string;
}

/**
 * The Redis pub/sub channels of one queue, beside BullMQ's own keys: workers publish step
 * progress on `progress` and, once a batch of records is in the store, its steps' job ids on
 * `ended` (the caller's wake-up); callers publish cancellations on `cancel`.
 *
 * Pub/sub rather than `job.updateProgress` and BullMQ's QueueEvents: progress then never goes
 * through BullMQ's events stream, which is trimmed (about 10,000 entries); a message costs one
 * PUBLISH, not a job hash write plus a stream entry; and a caller does not read and parse the
 * three or four events every job adds to the stream (added, waiting, active, completed), only
 * one message per batch of records. Messages are best effort (lost while a subscriber
 * reconnects): the store says when a step ended, the caller reconciles with it.
 * Every caller of the queue receives every message (and filters by job id): give separate
 * tenants separate queues.
 */
export function queueChannels(prefix: string, queueName: string): QueueChannels {
  const base = `${prefix}:${queueName}:fastroai`;
  return { progress: `${base}:progress`, ended: `${base}:ended`, cancel: `${base}:cancel` };
}
