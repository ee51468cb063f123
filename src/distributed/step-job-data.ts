import type { fingerprintDigest } from './fingerprint-digest';

/**
 * What a step's BullMQ job carries: where to find the run and which step to run, never the
 * outputs (the worker reads the run's input and its dependencies' outputs from the store).
 */
export interface StepJobData {
  runId: string;
  stepId: string;
  /** The generation the step's record takes (the record's key with runId and stepId). */
  generation: number;
  /**
   * The generations of the step's ancestors that the caller's run plans, those other than 1, by
   * id (absent when all are 1: a run's first epoch). The worker reads exactly these records: a
   * job of an earlier epoch may have written a later generation of a step this run restored.
   */
  generations?: Record<string, number>;
  /** The pipeline's name: the worker runs its own pipeline of that name. */
  pipeline: string;
  /**
   * The digest of the caller's graph fingerprint ({@link fingerprintDigest}; the fingerprint
   * itself is O(steps) bytes): a worker whose pipeline has another one refuses the job.
   */
  fingerprintDigest: string;
  /** The run's epoch when the step was enqueued (a worker with an older cached view reads the run again). */
  epoch: number;
  /**
   * False when the caller's run has no event listener (no `onEvent`, not `run()`): the worker
   * sends no progress messages (`step.started`, retries) for the step. @default true
   */
  progress?: false;
  /**
   * True when the caller watches the pushes of the run's store (RecordPusher) as the job is
   * added: the worker then sends no wake-up for the step's record when its store pushed it.
   */
  pushesHeard?: true;
  /** W3C trace context of the caller's `pipeline.<name>` span, when it had one. */
  traceparent?: string;
}

/** What a worker's job returns (BullMQ keeps it; the caller reads the record from the store). */
export interface StepJobResult {
  /** `recorded`/`duplicate`: the step's record is in the store; `cancelled`: the run was cancelled, nothing recorded. */
  outcome: 'recorded' | 'duplicate' | 'cancelled';
  workerId: string;
}
