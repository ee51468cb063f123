import type { Job, Queue } from 'bullmq';
import type { StepRecord } from '../store/run-store';
import { findStepRecords, recordKeyOf } from './find-step-records';
import type { StepJobAdder } from './step-job-adder';
import type { StepJobData, StepJobResult } from './step-job-data';
import type { WaitingStep } from './waiting-step';

/** Job states checked per reconciliation round at most (a wide fan-out waits in the queue for a while). */
const JOB_STATES_PER_ROUND = 200;

/** The first wait, in ms, of the quiet rounds (no wake-up heard for that long while steps wait); doubled after each round that found nothing. */
export const QUIET_FIRST_MS = 250;

/** What the reconciler reads and settles: the runner's queue and waiting steps. */
export interface ReconcilerHost {
  readonly queue: Queue<StepJobData, StepJobResult>;
  readonly jobs: StepJobAdder;
  readonly queueName: string;
  /** The steps waiting now. */
  waitingSteps(): Iterable<WaitingStep>;
  settle(waiting: WaitingStep, record: StepRecord): void;
  fail(waiting: WaitingStep, error: unknown): void;
  jobFailure(waiting: WaitingStep, failedReason: string | undefined): Error;
}

/** How many steps the rounds settled from the store (their wake-up was lost, or not heard yet). */
export interface ReconcileCounts {
  /** Regular rounds (every `intervalMs`) and steps they settled. */
  rounds: number;
  settled: number;
  /** Quiet rounds (no wake-up heard for a while) and steps they settled. */
  quietRounds: number;
  quietSettled: number;
}

/**
 * Settles waiting steps whose wake-up was lost (the workers' messages are Redis pub/sub, best
 * effort: missed while the caller's subscriber reconnects, never sent by a worker that died
 * between its record and its message; a job that stalled too often sends none), from the store:
 * - every `intervalMs`, a round over the steps waiting that long: their records (one read per
 *   run), and for those without one their jobs' states (a bounded number per round): a failed
 *   job fails its step, a job the queue lost (Redis restarted without persistence) too;
 * - when no wake-up was heard for {@link QUIET_FIRST_MS} while steps wait, a quiet
 *   round reads every waiting step's record (the end of a fan-out whose last events were lost
 *   then waits a quarter second, not `intervalMs`); the wait doubles after a round that found
 *   nothing, up to `intervalMs`, and starts over with the next wake-up heard. Trade-off: a step
 *   that runs long is read a few more times (after 0.25, 0.75, 1.75 s, … of quiet).
 */
export class StepReconciler {
  readonly counts: ReconcileCounts = { rounds: 0, settled: 0, quietRounds: 0, quietSettled: 0 };
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** Where the last round's job-state checks stopped (round robin over waiting steps). */
  private stateCursor = 0;
  private lastHeardAt = Date.now();
  private lastQuietRoundAt = 0;
  private quietMs = QUIET_FIRST_MS;
  private lastRoundAt = Date.now();

  constructor(
    private readonly host: ReconcilerHost,
    private readonly intervalMs: number,
  ) {}

  /** Starts the rounds (a timer that does not keep the process alive). */
  start(): void {
    if (this.timer !== undefined) return;
    this.lastRoundAt = Date.now();
    this.timer = setInterval(() => void this.tick(), Math.min(QUIET_FIRST_MS, this.intervalMs));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A wake-up (records written, or a job failed) was heard: they flow, quiet rounds wait again. */
  heard(): void {
    this.lastHeardAt = Date.now();
    this.quietMs = QUIET_FIRST_MS;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    const now = Date.now();
    if (now - this.lastRoundAt >= this.intervalMs) {
      this.lastRoundAt = now;
      await this.guarded(() => this.round());
    } else if (now - this.lastHeardAt >= this.quietMs && now - this.lastQuietRoundAt >= this.quietMs) {
      await this.guarded(() => this.quietRound());
    }
  }

  private async guarded(round: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await round();
    } finally {
      this.busy = false;
    }
  }

  /** Every waiting step's record (quiet: no wake-up heard for a while); nothing found doubles the next wait. */
  private async quietRound(): Promise<void> {
    const added = [...this.host.waitingSteps()].filter((waiting) => waiting.added && !waiting.ended);
    if (added.length === 0) return;
    this.lastQuietRoundAt = Date.now();
    this.counts.quietRounds++;
    const settled = (await this.settleFromStore(added)).size;
    this.counts.quietSettled += settled;
    if (settled === 0) this.quietMs = Math.min(2 * this.quietMs, this.intervalMs);
  }

  /** The steps waiting for `intervalMs` or more: their records, then (without one) their jobs' states. */
  private async round(): Promise<void> {
    const now = Date.now();
    const due = [...this.host.waitingSteps()].filter((waiting) => waiting.added && !waiting.ended && now - waiting.enqueuedAt >= this.intervalMs);
    if (due.length === 0) return;
    this.counts.rounds++;
    // Job states first, then the store: a job that completes in between has its record by then.
    const checked = this.nextForStateCheck(due);
    const states = await Promise.all(checked.map((waiting) => this.host.queue.getJobState(waiting.jobId).catch(() => undefined)));
    const recorded = await this.settleFromStore(due);
    this.counts.settled += recorded.size;
    for (let i = 0; i < checked.length; i++) {
      const waiting = checked[i];
      if (waiting.ended || recorded.has(waiting)) continue;
      await this.settleByJobState(waiting, states[i]);
    }
  }

  /** Reads the steps' records (one read per run) and settles those the store has; answers them. */
  private async settleFromStore(steps: WaitingStep[]): Promise<Set<WaitingStep>> {
    const byRun = new Map<string, WaitingStep[]>();
    for (const waiting of steps) {
      const list = byRun.get(waiting.task.runId);
      if (list === undefined) byRun.set(waiting.task.runId, [waiting]);
      else list.push(waiting);
    }
    const recorded = new Set<WaitingStep>();
    await Promise.all(
      [...byRun.values()].map(async (run) => {
        const keys = run.map((waiting) => ({ stepId: waiting.task.stepId, generation: waiting.durable.generation }));
        let found: Map<string, StepRecord>;
        try {
          found = await findStepRecords(run[0].durable.store, run[0].task.runId, keys);
        } catch (error) {
          for (const waiting of run) this.host.fail(waiting, error);
          return;
        }
        for (const waiting of run) {
          const record = found.get(recordKeyOf(waiting.task.stepId, waiting.durable.generation));
          if (record === undefined || waiting.ended) continue;
          recorded.add(waiting);
          this.host.settle(waiting, record);
        }
      }),
    );
    return recorded;
  }

  /** Up to JOB_STATES_PER_ROUND of `due`, continuing where the last round stopped. */
  private nextForStateCheck(due: WaitingStep[]): WaitingStep[] {
    if (due.length <= JOB_STATES_PER_ROUND) return due;
    const start = this.stateCursor % due.length;
    this.stateCursor = start + JOB_STATES_PER_ROUND;
    return [...due, ...due].slice(start, start + JOB_STATES_PER_ROUND);
  }

  /** A waiting step without a record, by its job's state (read before the store was). */
  private async settleByJobState(waiting: WaitingStep, state: string | undefined): Promise<void> {
    const { host } = this;
    if (state === 'failed') {
      const job: Job<StepJobData, StepJobResult> | undefined = await host.queue.getJob(waiting.jobId).catch(() => undefined);
      host.fail(waiting, host.jobFailure(waiting, job?.failedReason));
    } else if (state === 'unknown') {
      host.fail(
        waiting,
        new Error(
          `job '${waiting.jobId}' of step '${waiting.task.stepId}' (run '${waiting.task.runId}') is gone from the queue '${host.queueName}' and the store has no record of it: ` +
            'the queue lost it (was Redis restarted without persistence? BullMQ needs appendonly yes)',
        ),
      );
    } else if (state === 'completed') {
      // Completed jobs recorded first; one the store does not show was cancelled (an earlier caller's
      // run was, while this resume adopted the job): it runs again. Otherwise the store lost the record.
      const job: Job<StepJobData, StepJobResult> | undefined = await host.queue.getJob(waiting.jobId).catch(() => undefined);
      if (job?.returnvalue?.outcome === 'cancelled') {
        await host.queue.remove(waiting.jobId).catch(() => undefined);
        await host.jobs.add(waiting.task.stepId, waiting.data, waiting.jobId);
        return;
      }
      host.fail(waiting, new Error(`job '${waiting.jobId}' completed on the queue '${host.queueName}' but the store has no record of step '${waiting.task.stepId}'`));
    }
  }
}
