import type { Clock } from '../clock/clock';
import { ConversationState } from '../conversation/conversation-state';
import { EMPTY_STEP_USAGE, STEP_USAGE_COUNTERS, StepUsage, reportsUsage, type StepUsageFields } from '../usage/step-usage';
import { ancestorsOf } from '../graph/ancestors-of';
import type { StepGraph } from '../graph/step-graph';
import type { StepExecutionError } from '../errors/step-execution-error';
import type { RunStepTable } from '../pipeline/run-step-table';
import { decodeValue } from '../store/decode-value';
import { encodeValue } from '../store/encode-value';
import { HandedOverStepRecord } from '../store/handed-over-step-record';
import type { RecordOutcome, RunRecord, RunStatus, RunStore, StepRecord } from '../store/run-store';
import { callStore } from './call-store';
import type { ResumePlan } from './plan-resume';
import { RunRecorder } from './run-recorder';
import { holdRun } from './held-runs';
import { noteAbandonedLease, type RunStateBefore, type UnrestoredRun } from './abandoned-leases';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { storedErrorOf } from './stored-error-of';
import { StoreRunBudget } from './store-run-budget';

/** What a durable run reports to the run it records. */
export interface DurableRunHost {
  readonly graph: { readonly ids: readonly string[] };
  stepRecorded(index: number, outcome: RecordOutcome, record: StepRecord): void;
  abortRun(error: unknown): void;
  /** Cancels the run (`PipelineAbortedError` with `reason` as its cause): a cancellation asked through the store. */
  cancel(reason: unknown): void;
  /** Steps running now, those that ran and wait for their record included (see RecordBatcher.add). */
  runningSteps(): number;
}

/** How a durable run was opened: a new run (created) or an earlier one (claimed). */
export interface DurableRunOptions {
  store: RunStore;
  runId: string;
  owner: string;
  epoch: number;
  leaseMs: number;
  /** When the run first started (epoch ms). */
  firstStartedAt: number;
  /** What the run's steps were billed so far (a resume), for `runCostBudget`. */
  spentMicrocents: number;
  /** Restored records and generations (a resume); absent for a new run. */
  plan?: ResumePlan;
  /** Step count (a new run: every step at generation 1). */
  size: number;
  /** Where record times and lease renewals come from. */
  clock: Clock;
  /**
   * A claimed run's stored state before this resume set it `running` (a resume): put back when
   * the resume ends before it started anything ({@link DurableRun.putBack}).
   */
  before?: RunStateBefore;
}

/**
 * The durable side of one run, as the run sees it: builds each step's record from the step
 * table, writes it (group commit, see RunRecorder), restores a resumed run's records into the
 * table, and writes the run's final status. Created by `openDurableRun`/`claimDurableRun`.
 */
export class DurableRun {
  readonly runId: string;
  readonly epoch: number;
  readonly spentMicrocents: number;
  /** The store the run is recorded in. */
  readonly store: RunStore;
  /** Shifts this process's timings (ms since it started the run) to the run's first start. */
  timingOffsetMs = 0;
  private readonly options: DurableRunOptions;
  private readonly generationOf: Int32Array;
  /** Some step's record takes a generation other than 1 (a resume after a rerun or a failure). */
  private rerunsSome: boolean;
  private recorder: RunRecorder | undefined;
  private host: DurableRunHost | undefined;
  private budget: StoreRunBudget | undefined;
  private wallStartedAt: number;
  /** Forgets this run in this process's held runs (see holdRun). */
  private releaseHold: (() => void) | undefined;

  constructor(options: DurableRunOptions) {
    this.options = options;
    this.runId = options.runId;
    this.epoch = options.epoch;
    this.spentMicrocents = options.spentMicrocents;
    this.store = options.store;
    this.generationOf = options.plan?.generationOf ?? new Int32Array(options.size).fill(1);
    this.rerunsSome = this.generationOf.some((generation) => generation !== 1);
    this.wallStartedAt = options.clock.now();
  }

  /** The run's budget port: charges go to the store too (`addRunCost`), from the total it holds. */
  runBudget(budgetMicrocents: number | null, onStoreFailed: (error: unknown) => void): StoreRunBudget {
    this.budget = new StoreRunBudget(budgetMicrocents, this.spentMicrocents, this.options.store, this.runId, onStoreFailed);
    return this.budget;
  }

  /** Binds the run: record outcomes, a failing store and a lost lease go to it. */
  attach(host: DurableRunHost): void {
    const { store, runId, owner, epoch, leaseMs, firstStartedAt, clock } = this.options;
    this.host = host;
    this.releaseHold = holdRun(store, runId, (reason) => host.cancel(new Error(reason)));
    this.recorder = new RunRecorder(
      { store, runId, owner, epoch, leaseMs, firstStartedAt, generationOf: this.generationOf, clock },
      {
        recorded: (index, outcome, record) => host.stepRecorded(index, outcome, record),
        storeFailed: (error) => host.abortRun(error),
        runningSteps: () => host.runningSteps(),
      },
      (error) => host.abortRun(error),
      (reason) => host.cancel(new Error(`${reason} (a cancellation asked through the store)`)),
    );
  }

  /**
   * True when this run restores step `index` instead of running it: its record is restored, or,
   * in a resume of a completed run, its failure is, or it depends on such a failure (skipped
   * again; see ResumePlan.failed).
   */
  restores(index: number): boolean {
    const plan = this.options.plan;
    if (plan === undefined) return false;
    return plan.restored[index] !== undefined || plan.failed?.[index] !== undefined || plan.skipped?.[index] === 1;
  }

  /**
   * True when ending the run before it launched a step puts the stored run back as it was
   * (a resume of a run that had ended; see {@link putBack}).
   */
  get canPutBack(): boolean {
    // A crashed run (`running`, its lease lapsed) is not put back: it ends aborted, as a cancelled run does.
    const before = this.options.before;
    return before !== undefined && before.status !== 'running';
  }

  /**
   * Ends a resume that started nothing (aborted, or refused before its first step: a step class
   * that cannot be resolved, records that cannot be restored): the stored run goes back to what
   * it was before the claim (its status, input, error and conversation state), its lease
   * released. A resume that ran nothing changed nothing: a completed run stays completed, a
   * stopped conversation keeps its state.
   */
  async putBack(): Promise<void> {
    const before = this.options.before!;
    const fields: Partial<RunRecord> = { input: before.input, error: before.error, conversationState: before.conversationState };
    this.releaseHold?.();
    if (this.recorder !== undefined) await this.finish(this.recorder, before.status, fields, { before, epoch: this.epoch });
  }

  /** The run's steps start now (wall clock for records, offset for timings). */
  began(): void {
    this.wallStartedAt = this.options.clock.now();
    this.timingOffsetMs = this.wallStartedAt - this.options.firstStartedAt;
  }

  /**
   * Step `index`'s record, from the step table.
   * @throws OutputNotStorableError when the output cannot be encoded
   */
  stepRecord(
    index: number,
    status: 'completed' | 'failed',
    output: unknown,
    usage: StepUsage,
    error: StepExecutionError | undefined,
    table: RunStepTable,
  ): StepRecord {
    const stepId = this.host!.graph.ids[index];
    const incomplete = status === 'completed' && output instanceof ConversationState && output.status === 'incomplete';
    // Handed over: the run never changes it, so a store may keep it as it is (see HandedOverStepRecord).
    const record = new HandedOverStepRecord(
      stepId,
      this.generationOf[index],
      incomplete ? 'incomplete' : status,
      usageFieldsOf(usage),
      table.attempts[index],
      Math.round(this.wallStartedAt + table.startMs[index]),
      Math.round(this.wallStartedAt + table.endMs[index]),
    );
    if (status === 'completed') record.output = encodeValue(output, stepId);
    if (error !== undefined) record.error = storedErrorOf(error, stepId);
    return record;
  }

  /** The generation step `index`'s record takes in this run. */
  generationAt(index: number): number {
    return this.generationOf[index];
  }

  /**
   * Step `index`'s record takes `generation` instead (a later one, that its runner ran it at:
   * see StepOutcome.generation); its dependents read that one. Ignored unless it is later (and
   * an integer a generation can be: at most 2³¹ − 1).
   */
  moveGeneration(index: number, generation: number): void {
    if (!Number.isInteger(generation) || generation <= this.generationOf[index] || generation > MAX_GENERATION) return;
    this.generationOf[index] = generation;
    this.rerunsSome = true;
  }

  /**
   * The generations of step `index`'s ancestors (the outputs it may read) in this run, by id,
   * those other than 1 only: undefined when there are none (always in a run's first epoch). A
   * worker reads exactly these records, not the latest ones: a job of an earlier epoch may write
   * a later generation of a step this run restored (see StepJobData.generations).
   */
  ancestorGenerationsOf(graph: StepGraph, index: number): Record<string, number> | undefined {
    if (!this.rerunsSome) return undefined;
    let generations: Record<string, number> | undefined;
    for (const ancestor of ancestorsOf(graph, index)) {
      const generation = this.generationOf[ancestor];
      if (generation !== 1) (generations ??= {})[graph.ids[ancestor]] = generation;
    }
    return generations;
  }

  /** An epoch-ms time (a record's) as ms since this process began the run (the step table's clock). */
  msSinceBegan(epochMs: number): number {
    return epochMs - this.wallStartedAt;
  }

  record(index: number, record: StepRecord): void {
    this.recorder!.record(index, record);
  }

  /** The value another writer recorded first for step `index` (same generation). */
  async adoptRecorded(index: number, mine: StepRecord): Promise<{ record: StepRecord; output: unknown }> {
    const { store, runId } = this.options;
    const stored = await callStore(store, runId, () => store.getRun(runId), this.options.clock);
    const theirs = stored?.steps.find((record) => record.stepId === mine.stepId && record.generation === mine.generation) ?? mine;
    return { record: theirs, output: theirs.output === undefined ? undefined : decodeValue(theirs.output) };
  }

  /**
   * Puts a resumed run's restored records into the step table (outputs, usage, timings since
   * the run's first start, attempts) and tells the scheduler (`restore`).
   */
  restoreInto(table: RunStepTable, restore: (index: number) => void): void {
    const plan = this.options.plan;
    if (plan === undefined) return;
    const first = this.options.firstStartedAt;
    plan.restored.forEach((record, index) => {
      if (record === undefined) return;
      table.outputs[index] = record.output === undefined ? undefined : decodeValue(record.output);
      restoreRecordInto(table, index, record, first, 1);
      restore(index);
    });
  }

  /**
   * Puts the failed records a resume of a completed run restores (see `planResume`) into the
   * step table (usage, timings, attempts) and hands each to `restore`, in declaration order.
   */
  restoreFailuresInto(table: RunStepTable, restore: (index: number, record: StepRecord) => void): void {
    const failed = this.options.plan?.failed;
    if (failed === undefined) return;
    const first = this.options.firstStartedAt;
    failed.forEach((record, index) => {
      if (record === undefined) return;
      restoreRecordInto(table, index, record, first, 2);
      restore(index, record);
    });
  }

  /**
   * Ends the run in the store: its status, the error or conversation state, and the lease
   * released. `writable: false` (a lost lease, a failing store) writes nothing. A lease the run
   * still holds but could not release (its store failed) is noted, so that a resume in this
   * process need not wait for it to expire ({@link noteAbandonedLease}).
   */
  async end(status: RunStatus, error?: unknown, writable = true, conversationState?: ConversationState<unknown>): Promise<void> {
    this.releaseHold?.();
    const recorder = this.recorder;
    if (recorder === undefined) return;
    if (!writable) {
      await recorder.abandon();
      if (StoreUnavailableError.isInstance(error)) noteAbandonedLease(this.store, this.runId, this.options.owner);
      return;
    }
    // Every charge reaches the store before the run's final status does.
    await this.budget?.settled();
    const fields: Partial<RunRecord> = {};
    if (error !== undefined) fields.error = storedErrorOf(error);
    if (conversationState !== undefined) fields.conversationState = encodeValue(conversationState);
    await this.finish(recorder, status, fields);
  }

  /**
   * The run's last write: its status and fields, the lease released. A lease it could not
   * release is noted (see {@link end}), with the state to put back when that was the write's aim.
   */
  private async finish(recorder: RunRecorder, status: RunStatus, fields: Partial<RunRecord>, puttingBack?: UnrestoredRun): Promise<void> {
    try {
      await recorder.finish(status, fields);
    } catch (failure) {
      if (StoreUnavailableError.isInstance(failure)) noteAbandonedLease(this.store, this.runId, this.options.owner, puttingBack);
      throw failure;
    }
  }
}

/**
 * Step `index`'s timings (since the run's first start, `firstStartedAt`), attempts, usage and
 * worker from its record, marked restored (`kind`: 1 completed, 2 failed; see RunStepTable.restored).
 */
function restoreRecordInto(table: RunStepTable, index: number, record: StepRecord, firstStartedAt: number, kind: 1 | 2): void {
  (table.restored ??= new Uint8Array(table.attempts.length))[index] = kind;
  table.startMs[index] = record.startedAt - firstStartedAt;
  table.endMs[index] = record.endedAt - firstStartedAt;
  table.attempts[index] = record.attempts;
  if (reportsUsage(record.usage)) table.setUsage(record.stepId, new StepUsage(record.usage));
  table.setWorkerId(index, record.workerId);
}

/**
 * A usage as plain fields (the stored form). A step that made no call gets one shared, frozen
 * object: a store may keep it as it is (see StepRecordColumns), and copies any other usage it keeps.
 */
export function usageFieldsOf(usage: StepUsage): StepUsageFields {
  if (usage === EMPTY_STEP_USAGE) return (noUsageFields ??= Object.freeze(copyFields(usage)));
  return copyFields(usage);
}

let noUsageFields: StepUsageFields | undefined;

function copyFields(usage: StepUsage): StepUsageFields {
  const fields = { model: usage.model } as StepUsageFields;
  for (const counter of STEP_USAGE_COUNTERS) fields[counter] = usage[counter];
  return fields;
}

/** The highest generation a run plans (they are kept in an Int32Array). */
const MAX_GENERATION = 0x7fffffff;
