import type { DependencyContainer } from 'tsyringe';
import type { ConversationState } from '../conversation/conversation-state';
import type { DurableRun } from '../durable/durable-run';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { StepExecutionError } from '../errors/step-execution-error';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import type { CancelScope } from '../executor/cancel-scope';
import { buildPipelineResult, type EndedRun } from './build-pipeline-result';
import type { PipelineEvent } from './pipeline-event';
import type { PipelineResult } from './pipeline-result';
import { disposeRunContainer } from './resolve-step-instances';
import { PIPELINE_USAGE_TOTALS, PipelineUsage } from '../usage/pipeline-usage';

/** What ending a run reads from it, and the end state it sets there. */
export interface EndingRun extends EndedRun {
  readonly durable: DurableRun | undefined;
  readonly emit: ((event: PipelineEvent) => void) | undefined;
  readonly scheduler: { readonly state: Uint8Array; stop(): void };
  readonly cancelScope: CancelScope;
  /** What the executor sees of the run: no retry starts once it is aborted; the `ctx.run` calls still running. */
  readonly scope: { isAborted: boolean; callsSettled?(): Promise<void> | undefined };
  readonly conversationState: ConversationState<unknown> | undefined;
  /** A failure that ends the run once running steps drained (with a store, `failFast: false`). */
  readonly drainedFailure: StepExecutionError | undefined;
  /** The run's DI child container (class steps only): disposed when the run ends. */
  readonly container: DependencyContainer | undefined;
  /** Some step was handed to its executor or runner: it may have run, been billed, been recorded. */
  readonly launchedSome: boolean;
  /** The run ended: nothing more happens (set here). */
  finished: boolean;
  /** Why the run was aborted (set here), for an `execute` called after it. */
  abortError: unknown;
  resolveRun(result: PipelineResult<unknown>): void;
  rejectRun(error: unknown): void;
}

/**
 * Ends a run whose steps all settled: it resolves with its result (a store first writes the
 * run's status, then `pipeline.completed` is emitted), or rejects with the failure it drained.
 */
export function finishRun(run: EndingRun): void {
  run.finished = true;
  if (run.container !== undefined) disposeRunContainer(run.container);
  const failure = run.drainedFailure;
  if (failure !== undefined) {
    keepRunUsage(run, failure);
    const reject = () => run.rejectRun(failure);
    run.durable!.end('failed', failure).then(reject, reject);
    return;
  }
  const result = buildPipelineResult(run);
  const completed = () => {
    run.emit?.({ type: 'pipeline.completed', result });
    run.resolveRun(result);
  };
  if (run.durable === undefined) return completed();
  // Persist, then announce: the run's status is written before pipeline.completed.
  const status = run.stoppedEarly ? 'stopped' : 'completed';
  run.durable.end(status, undefined, true, run.stoppedEarly ? run.conversationState : undefined).then(completed, (error: unknown) => run.rejectRun(error));
}

/**
 * Ends a run with `error`: running steps abort, nothing new starts, the run rejects (a store's
 * failure, a lost lease, a cancellation; a cancellation while a failure drains rejects with that failure). The `ctx.run` calls it aborted are waited for (bounded, see
 * `callsSettled`) before it rejects, so their usage is in the error's `runUsage`.
 */
export function abortRunWith(run: EndingRun, error: unknown): void {
  if (run.finished) return;
  run.finished = true;
  run.scope.isAborted = true;
  // Cancelled while a step's failure drains the run (a store, onError 'fail'): the failure came
  // first and ends the run, as it does without a store; the running steps still abort.
  const ending = PipelineAbortedError.isInstance(error) && run.drainedFailure !== undefined ? run.drainedFailure : error;
  run.abortError = ending;
  run.scheduler.stop();
  run.cancelScope.abort(error);
  if (run.container !== undefined) disposeRunContainer(run.container);
  const calls = run.scope.callsSettled?.();
  if (calls === undefined) endAbortedRun(run, ending);
  else calls.then(() => endAbortedRun(run, ending));
}

/** The rest of {@link abortRunWith}, once the calls it aborted settled. */
function endAbortedRun(run: EndingRun, error: unknown): void {
  if (StepExecutionError.isInstance(error) || PipelineAbortedError.isInstance(error)) keepRunUsage(run, error);
  if (run.durable === undefined) return run.rejectRun(error);
  // After a lost lease or a failing store, nothing more is written (it would be refused or fail).
  const writable = !RunLeaseLostError.isInstance(error) && !StoreUnavailableError.isInstance(error);
  const reject = () => run.rejectRun(error);
  endUnfinished(run.durable, run.launchedSome, error, writable).then(reject, reject);
}

/**
 * Rejects a run before anything ran. A new run's record is ended (aborted or failed); a resume's
 * is put back as it was before the claim (DurableRun.putBack).
 */
export function rejectBeforeStart(run: Pick<EndingRun, 'durable' | 'finished'>, error: unknown): Promise<PipelineResult<unknown>> {
  run.finished = true;
  if (run.durable === undefined) return Promise.reject(error);
  const reject = () => Promise.reject(error);
  return endUnfinished(run.durable, false, error, true).then(reject, reject);
}

/**
 * Writes the end of a run that did not finish: `aborted` or `failed` with its error, unless it
 * is a resume that launched no step, which leaves the stored run as it was (a cancelled
 * resume of a completed run must not turn it into an aborted one that runs its steps again).
 */
function endUnfinished(durable: DurableRun, launchedSome: boolean, error: unknown, writable: boolean): Promise<void> {
  if (!launchedSome && writable && durable.canPutBack) return durable.putBack();
  return durable.end(PipelineAbortedError.isInstance(error) ? 'aborted' : 'failed', error, writable);
}

/**
 * Sets the `runUsage` of the error a run ends with: this run's, plus the one the error already
 * carries when it is a nested pipeline's error re-thrown as it is (API.md §4), so that run's
 * cost is not lost: totals summed, steps side by side (this run's win a shared id).
 */
function keepRunUsage(run: EndingRun, error: { runUsage?: PipelineUsage }): void {
  const own = run.table.runUsage(run.definition.graph);
  const nested = error.runUsage;
  if (nested === undefined || own === undefined) {
    error.runUsage = own ?? nested;
    return;
  }
  const merged = new PipelineUsage({ steps: { ...nested.steps, ...own.steps } });
  for (const total of PIPELINE_USAGE_TOTALS) merged[total] = nested[total] + own[total];
  error.runUsage = merged;
}
