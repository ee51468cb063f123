import type { JobsOptions, Queue } from 'bullmq';
import type { StepJobData, StepJobResult } from './step-job-data';

/** Jobs added with one `addBulk` at most (one Redis pipeline; the bare BullMQ bench adds 1,000 a call too). */
export const JOBS_PER_BULK = 1_000;

/**
 * The options of every step job: one attempt (the executor retries), completed jobs kept an hour
 * (a resumed run finds them), failed ones a day.
 */
export const STEP_JOB_OPTIONS: Readonly<JobsOptions> = Object.freeze({
  attempts: 1,
  removeOnComplete: { age: 3_600 },
  removeOnFail: { age: 24 * 3_600 },
});

/** A job waiting for the next bulk, and who waits for it. */
interface PendingJob {
  readonly name: string;
  readonly data: StepJobData;
  readonly jobId: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Adds step jobs to the queue in bulk: the jobs asked for in the same tick (a wide fan-out's
 * ready steps) go in one `queue.addBulk` per {@link JOBS_PER_BULK}, one Redis round trip
 * instead of one per step. Each job keeps its id (`runId-stepId-generation`): BullMQ's add
 * script, the same in a bulk, adopts a job whose id is in the queue already instead of adding
 * it again (a single job is added with `queue.add`). A bulk fails as a whole when one of its jobs does; its jobs are then added one by
 * one (those added already are adopted), so only the jobs whose add fails reject.
 */
export class StepJobAdder {
  /** The jobs of the next bulk, by job id (in the order asked for). */
  private pending = new Map<string, PendingJob>();
  private scheduled = false;

  constructor(private readonly queue: Queue<StepJobData, StepJobResult>) {}

  /** Adds the job in the next bulk; resolves once the queue has it (added, or adopted). */
  add(name: string, data: StepJobData, jobId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.get(jobId)?.resolve(); // asked for twice before it was sent: added once
      this.pending.set(jobId, { name, data, jobId, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  /**
   * Leaves the job out of the next bulk if it was not sent yet (its step was cancelled: a job
   * removed from the queue before it was added would be added after). Resolves its `add`.
   * @returns true when it was left out (false: sent already, or never added)
   */
  drop(jobId: string): boolean {
    const job = this.pending.get(jobId);
    if (job === undefined) return false;
    this.pending.delete(jobId);
    job.resolve();
    return true;
  }

  /** Sends what is pending, {@link JOBS_PER_BULK} a call. */
  private flush(): void {
    const pending = [...this.pending.values()];
    this.pending = new Map();
    this.scheduled = false;
    void this.addChunks(pending);
  }

  /**
   * One chunk after the other: Redis runs the add scripts one at a time anyway, and a wide
   * fan-out's chunks sent at once hold all of their jobs (BullMQ's Job objects, their
   * serialized arguments) in this process's heap at the same time.
   */
  private async addChunks(pending: PendingJob[]): Promise<void> {
    for (let first = 0; first < pending.length; first += JOBS_PER_BULK) await this.addChunk(pending.slice(first, first + JOBS_PER_BULK));
  }

  private async addChunk(chunk: PendingJob[]): Promise<void> {
    if (chunk.length === 1) {
      // One job (a chain's next step): a plain add, no pipeline around it.
      const [job] = chunk;
      await this.queue.add(job.name, job.data, { ...STEP_JOB_OPTIONS, jobId: job.jobId }).then(() => job.resolve(), job.reject);
      return;
    }
    try {
      await this.queue.addBulk(chunk.map((job) => ({ name: job.name, data: job.data, opts: { ...STEP_JOB_OPTIONS, jobId: job.jobId } })));
    } catch {
      await Promise.all(chunk.map((job) => this.queue.add(job.name, job.data, { ...STEP_JOB_OPTIONS, jobId: job.jobId }).then(() => job.resolve(), job.reject)));
      return;
    }
    for (const job of chunk) job.resolve();
  }
}
