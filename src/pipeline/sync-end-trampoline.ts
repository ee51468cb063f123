import { retryOrFail } from '../executor/execute-step';
import type { StepRunScope } from '../executor/step-run-scope';
import type { StepUsage } from '../usage/step-usage';
import type { RunStepTable } from './run-step-table';
import { SyncEndRing } from './sync-end-ring';

/** A settled promise to queue microtasks on. */
const SETTLED: Promise<void> = Promise.resolve();

/**
 * The synchronous attempt ends of a run (`execute` returned a value or threw, no promise:
 * `StepRunScope.attemptEndedSoon`), each handled one microtask after it was reported: in order
 * with the ends of asynchronous steps queued before it (so what happened first is seen first),
 * and a chain of synchronous steps never recurses. One shared callback and flat arrays (the
 * end in a ring, its outcome in the step table): no closure, object or promise chain per step.
 */
export class SyncEndTrampoline {
  private readonly run: Pick<StepRunScope, 'stepCompleted'>;
  private readonly scope: StepRunScope;
  private readonly table: RunStepTable;
  private readonly ends: SyncEndRing;

  /**
   * @param run where a completion goes (`stepCompleted`)
   * @param scope what a failed attempt's retry-or-fail decision runs with ({@link retryOrFail})
   * @param table where each end's outcome waits
   */
  constructor(run: Pick<StepRunScope, 'stepCompleted'>, scope: StepRunScope, table: RunStepTable) {
    this.run = run;
    this.scope = scope;
    this.table = table;
    this.ends = new SyncEndRing(table.attempts.length);
  }

  /** Queues the end of step `index`'s attempt `attempt`: `outcome` is its output when `ok`, else its error. */
  push(index: number, ok: boolean, outcome: unknown, usage: StepUsage | undefined, attempt: number): void {
    const table = this.table;
    table.outputs[index] = outcome;
    table.attempts[index] = attempt;
    if (usage !== undefined) (table.pendingUsages ??= [])[index] = usage;
    this.ends.push(ok ? index : ~index);
    // A reaction on a settled promise: the same microtask queue as `queueMicrotask`, at half its cost on Node 20.
    SETTLED.then(this.handleOldest);
  }

  /** Handles the oldest queued end (one shared function: no closure per step). */
  private readonly handleOldest = (): void => {
    const code = this.ends.shift();
    const index = code >= 0 ? code : ~code;
    const table = this.table;
    const outcome = table.outputs[index];
    let usage: StepUsage | undefined;
    if (table.pendingUsages !== undefined) {
      usage = table.pendingUsages[index];
      table.pendingUsages[index] = undefined;
    }
    if (code >= 0) {
      this.run.stepCompleted(index, outcome, usage, table.attempts[index]);
    } else {
      table.outputs[index] = undefined;
      retryOrFail(this.scope, index, table.attempts[index], outcome, usage);
    }
  };
}
