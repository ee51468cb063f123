import { cancelHeldRun } from '../durable/held-runs';
import { newOwnerId } from '../durable/owner-id';
import type { Pipeline } from '../pipeline/pipeline';
import type { RunStore } from '../store/run-store';

/** How long the inspector holds the lease of a crashed run it marks aborted. */
const CANCEL_LEASE_MS = 10_000;
/** Notices kept (the newest), one per run. */
const MAX_NOTICES = 200;

/** What an action answers: it started or did what was asked, or why not. */
export interface ActionOutcome {
  ok: boolean;
  message: string;
}

/**
 * The actions of the run page (given `pipelines`): resume a run, rerun a step with its
 * dependents, cancel a run. A resume runs in this process, in the background, through
 * `pipeline.resume(runId, { store, rerun, signal })`; the page follows it through the store like
 * any run. Cancelling aborts the signal of a run this inspector started. A run that another
 * process executes, whose lease is live, is asked to cancel through the store
 * (`store.requestCancel`): that process reads the request at its next lease renewal (every
 * third of its lease, 10 s by default) and cancels the run, which ends `aborted`; a store without
 * `requestCancel` cannot reach it, and the cancel is refused and says so. Once the lease has
 * expired (the process is gone or stalled) the inspector claims the run and marks it `aborted`,
 * which also makes a late write of the old owner stale.
 */
export class RunActions {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly notices = new Map<string, string>();

  constructor(
    private readonly store: RunStore,
    private readonly pipelines: ReadonlyMap<string, Pipeline<any, any, any>>,
  ) {}

  /** Whether this inspector can act on runs of `pipeline`. */
  handles(pipeline: string): boolean {
    return this.pipelines.has(pipeline);
  }

  /** Whether this inspector is executing the run now. */
  owns(runId: string): boolean {
    return this.running.has(runId);
  }

  /** The message of the last action on a run (until the next one). */
  noticeOf(runId: string): string | undefined {
    return this.notices.get(runId);
  }

  /** Starts `pipeline.resume` of the run (with `rerun` if given); it goes on in the background. */
  async resume(runId: string, rerun?: string[]): Promise<ActionOutcome> {
    const stored = await this.store.getRun(runId);
    if (stored === undefined) return this.note(runId, false, `Run '${runId}' is not in the store.`);
    const pipeline = this.pipelines.get(stored.run.pipeline);
    if (pipeline === undefined) return this.note(runId, false, `No pipeline named '${stored.run.pipeline}' was given to the inspector.`);
    if (this.running.has(runId)) return this.note(runId, false, 'This inspector is running the run already.');
    const controller = new AbortController();
    const what = rerun === undefined ? 'Resume' : `Rerun of '${rerun.join("', '")}' and its dependents`;
    const done = pipeline
      .resume(runId, { store: this.store, signal: controller.signal, ...(rerun === undefined ? {} : { rerun }) })
      .then(
        (result) => {
          this.note(runId, true, `${what} ended: ${result.stoppedEarly ? 'stopped again (INCOMPLETE)' : 'completed'}.`);
        },
        (error: unknown) => {
          this.note(runId, false, `${what} failed: ${describeError(error)}`);
        },
      )
      .finally(() => this.running.delete(runId));
    this.running.set(runId, { controller, done });
    return this.note(runId, true, `${what} started.`);
  }

  /** Cancels the run (see the class comment for runs of other processes). */
  async cancel(runId: string): Promise<ActionOutcome> {
    const own = this.running.get(runId);
    if (own !== undefined) {
      own.controller.abort(new Error('cancelled from the inspector'));
      await own.done;
      return this.note(runId, true, 'Cancelled: the run was aborted (resume continues it).');
    }
    const stored = await this.store.getRun(runId);
    if (stored === undefined) return this.note(runId, false, `Run '${runId}' is not in the store.`);
    const { run } = stored;
    if (run.status !== 'running') return this.note(runId, false, `The run is ${run.status}, not running: nothing to cancel.`);
    if (run.leaseUntil > Date.now()) {
      // Executing in this process, through this store: cancelled at once.
      if (cancelHeldRun(this.store, runId, 'cancelled from the inspector')) {
        return this.note(runId, true, 'Cancelled: the run, executing in this process, was aborted (resume continues it).');
      }
      return this.requestCancel(runId, run.owner);
    }
    try {
      const claimed = await this.store.claimRun(runId, newOwnerId(), CANCEL_LEASE_MS);
      await this.store.setRunStatus(runId, claimed.epoch, 'aborted', {
        leaseUntil: 0,
        error: { name: 'PipelineAbortedError', code: 'fastroai:pipeline-aborted', message: `Cancelled from the inspector after the lease of ${run.owner} expired` },
      });
    } catch (error) {
      return this.note(runId, false, `Cancel failed: ${describeError(error)}`);
    }
    return this.note(runId, true, `Cancelled: the lease of ${run.owner} had expired; the run is marked aborted (resume continues it).`);
  }

  /** Asks `owner`, the live holder of the run, to cancel it, through the store. */
  private async requestCancel(runId: string, owner: string): Promise<ActionOutcome> {
    if (typeof this.store.requestCancel !== 'function' || typeof this.store.cancelRequested !== 'function') {
      return this.note(
        runId,
        false,
        `The run is executing in another process (${owner}) that holds its lease, and this store has no requestCancel to ask it to stop. ` +
          'Cancel it there (its AbortSignal), or wait until its lease expires and cancel again.',
      );
    }
    let outcome: string;
    try {
      outcome = await this.store.requestCancel(runId, 'cancelled from the inspector');
    } catch (error) {
      return this.note(runId, false, `Cancel failed: ${describeError(error)}`);
    }
    if (outcome === 'missing') return this.note(runId, false, `Run '${runId}' is not in the store.`);
    if (outcome !== 'requested') return this.note(runId, false, 'The run ended meanwhile: nothing to cancel.');
    return this.note(
      runId,
      true,
      `Cancel requested: ${owner}, the process holding the run's lease, cancels the run when it next renews the lease (every third of the lease: 10 s by default), and the run ends aborted (resume continues it). ` +
        'If that process is gone, nobody hears the request: the run stays running until its lease expires; cancel again then.',
    );
  }

  /** Aborts the runs this inspector is executing and waits for them to be recorded as aborted. */
  async close(): Promise<void> {
    const runs = [...this.running.values()];
    for (const run of runs) run.controller.abort(new Error('the inspector closed'));
    await Promise.all(runs.map((run) => run.done));
  }

  private note(runId: string, ok: boolean, message: string): ActionOutcome {
    this.notices.delete(runId);
    this.notices.set(runId, message);
    if (this.notices.size > MAX_NOTICES) this.notices.delete(this.notices.keys().next().value!);
    return { ok, message };
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
