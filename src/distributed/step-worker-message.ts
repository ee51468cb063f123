import type { StoredError } from '../store/run-store';

/**
 * A progress message from a worker to the caller of a run (Redis pub/sub, see queueChannels):
 * a step's attempt started, an attempt or a model call is retried. Best effort: the store,
 * not these messages, says when a step ended.
 */
export type StepProgressMessage =
  | { jobId: string; type: 'step.started'; attempt: number; workerId: string }
  | { jobId: string; type: 'step.retrying' | 'call.retrying'; attempt: number; error: StoredError; delaySeconds: number };

/**
 * A worker's wake-up for the callers (Redis pub/sub, see queueChannels): the jobs whose
 * steps' records are in the store now (`recorded`: one message per batch of records), or a job
 * that failed on the queue (refused by the worker, or stalled too often). Best effort: the
 * caller reads the records from the store, and reconciles when a message is lost.
 */
export type StepsEndedMessage = { recorded: string[] } | { failed: string; reason: string };

/**
 * A caller's request to the workers: stop the step of this job (the run was cancelled or failed
 * fast). `epoch` is the run's epoch of the cancelled job: a resume (a later epoch) may add a job
 * of the same id again, which the message must not stop.
 */
export interface CancelStepMessage {
  jobId: string;
  epoch: number;
  reason: string;
}

/**
 * A message from a queue channel, or undefined when it is not a JSON object: anyone who can
 * reach Redis can publish there, and a listener that threw on `null` would throw inside
 * ioredis's reply handling.
 */
export function parseChannelMessage<T extends object>(text: string): T | undefined {
  try {
    const message: unknown = JSON.parse(text);
    return typeof message === 'object' && message !== null && !Array.isArray(message) ? (message as T) : undefined;
  } catch {
    return undefined;
  }
}
