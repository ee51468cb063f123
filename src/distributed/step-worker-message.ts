import type { StepRecord, StoredError } from '../store/run-store';

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
 * caller reconciles from the store when a message is lost.
 *
 * `records[i]` is the record of job `recorded[i]` exactly as this worker wrote it, when the
 * store answered `recorded` for it (the first write: what the store holds for good) and it is
 * small (see isCarriable); else `null` (a `duplicate`: another writer's record is the one, or a
 * large one), and the record is read from the store. A carried record saves the caller's read
 * of it, and another worker's (which reads it ahead for the step it readies).
 */
export type StepsEndedMessage = { recorded: string[]; records?: (StepRecord | null)[] } | { failed: string; reason: string };

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
