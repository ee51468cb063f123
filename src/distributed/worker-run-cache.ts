import { callStore, storeNameOf } from '../durable/call-store';
import { RunNotFoundError } from '../errors/run-not-found-error';
import { toInputRecord } from '../pipeline/to-input-record';
import { decodeValue } from '../store/decode-value';
import type { RunRecord, RunStore, StepRecord } from '../store/run-store';
import { findStepRecords, recordKeyOf } from './find-step-records';
import { FIRST_GENERATIONS, type PlannedGenerations } from './planned-generations';
import { StepRecordReader } from './step-record-reader';

/** Records read ahead at once at most (see {@link WorkerRunCache.prefetch}); more are read when their jobs come. */
const PREFETCHES_IN_FLIGHT = 256;

/** A run as a worker sees it: its record, its decoded input, and its step records so far. */
export class WorkerRunView {
  readonly input: Record<string, unknown>;
  /** Each step's records, by generation (the array's index). */
  private readonly records = new Map<string, StepRecord[]>();
  /** Decoded outputs, by record (decoded once per view). */
  private readonly outputs = new Map<StepRecord, unknown>();

  constructor(
    readonly run: RunRecord,
    records: readonly StepRecord[],
  ) {
    this.input = toInputRecord(decodeValue(run.input));
    for (const record of records) this.add(record);
  }

  /** A record written since (records never change: first write wins, and the first one added stays). */
  add(record: StepRecord): void {
    let generations = this.records.get(record.stepId);
    if (generations === undefined) this.records.set(record.stepId, (generations = []));
    generations[record.generation] ??= record;
  }

  /**
   * A record its store pushed (see pushedRecordOf), decoded now: false, and not added, when
   * its output does not decode (the record is then read from the store).
   */
  addPushed(record: StepRecord): boolean {
    let output: unknown;
    try {
      output = record.output === undefined ? undefined : decodeValue(record.output);
    } catch {
      return false;
    }
    this.add(record);
    if (this.recordOf(record.stepId, record.generation) === record) this.outputs.set(record, output);
    return true;
  }

  has(stepId: string, generation: number): boolean {
    return this.recordOf(stepId, generation) !== undefined;
  }

  /** True when every step of `stepIds` has a completed record at the generation `generationOf` plans for it (1 unless told). */
  hasCompleted(stepIds: readonly string[], generationOf: PlannedGenerations = FIRST_GENERATIONS): boolean {
    return stepIds.every((id) => this.isCompleted(id, generationOf(id)));
  }

  /** True when step `stepId` has a completed record at `generation`. */
  isCompleted(stepId: string, generation = 1): boolean {
    return this.recordOf(stepId, generation)?.status === 'completed';
  }

  /** The decoded output of step `stepId`'s record at `generation` (undefined without one). */
  outputOf(stepId: string, generation = 1): unknown {
    const record = this.recordOf(stepId, generation);
    if (record === undefined) return undefined;
    if (this.outputs.has(record)) return this.outputs.get(record);
    const output = record.output === undefined ? undefined : decodeValue(record.output);
    this.outputs.set(record, output);
    return output;
  }

  private recordOf(stepId: string, generation: number): StepRecord | undefined {
    return this.records.get(stepId)?.[generation];
  }
}

/**
 * What a worker knows of the runs it runs steps of, so that a chain does not read the whole
 * run from the store for each step (the store contract's only read is `getRun`, O(steps)):
 * step records are immutable once written, so a view stays right; it is read again when a job
 * comes from a newer epoch (a resume may have changed the input) or needs a dependency's record
 * it does not hold (another worker wrote it). It also keeps each run's deps (built once per run
 * on this worker, kept across re-reads of its view). The least recently used runs are dropped
 * past `maxRuns` (their views and deps alike).
 *
 * A record another worker wrote can be read ahead ({@link prefetch}), while the caller learns of
 * it and enqueues the step it readies: the job then finds its dependency's output here.
 */
export class WorkerRunCache {
  private readonly runs = new Map<string, WorkerRunView>();
  private readonly deps = new Map<string, Promise<unknown>>();
  /** Reads ahead in flight, by {@link prefetchKey}: a job that needs one waits for it rather than reading again. */
  private readonly prefetching = new Map<string, Promise<void>>();
  /** Whole-run reads in flight, by run id. */
  private readonly loading = new Map<string, Promise<WorkerRunView>>();
  private readonly reader = new StepRecordReader();

  constructor(
    private readonly store: RunStore,
    private readonly maxRuns = 64,
  ) {}

  /**
   * The run, with completed records of every step of `needed` at the generations `generationOf` plans:
   * `fresh` false for a view held before, whose records of `needed` were checked here; `fresh`
   * true for one read for this job, which holds what the store had (the caller checks it).
   * @throws RunNotFoundError naming the worker's store when the run is not in it
   */
  async read(runId: string, epoch: number, needed: readonly string[], generationOf = FIRST_GENERATIONS): Promise<{ view: WorkerRunView; fresh: boolean }> {
    // A view read before this job came serves it only in the run's first epoch. After a resume
    // the input may have changed, and a dependency may have been rerun (a new generation, written
    // after that view was read), so the job reads the run afresh: the caller enqueued it after the
    // store had its dependencies' records.
    if (epoch !== 1) return { view: await this.load(runId), fresh: true };
    const cached = this.runs.get(runId);
    if (cached !== undefined && cached.run.epoch === 1 && (cached.hasCompleted(needed, generationOf) || (await this.fillIn(cached, needed, generationOf)))) {
      this.runs.delete(runId);
      this.runs.set(runId, cached);
      return { view: cached, fresh: false };
    }
    // The jobs of a run that come together (a worker takes `concurrency` at once) share one read:
    // a read sent before a job came may miss what the job needs, which then reads on its own.
    const loading = this.loading.get(runId);
    if (loading !== undefined) {
      const view = await loading;
      if (view.run.epoch === 1 && view.hasCompleted(needed, generationOf)) return { view, fresh: true };
    }
    return { view: await this.load(runId), fresh: true };
  }

  /** Reads run `runId` whole into a new view, and keeps it (one read in flight per run is shared by {@link read}). */
  private load(runId: string): Promise<WorkerRunView> {
    const loading = callStore(this.store, runId, () => this.store.getRun(runId)).then((stored) => {
      if (stored === undefined) {
        // The caller created it: a worker that cannot find it has another store than the caller.
        throw new RunNotFoundError(runId, storeNameOf(this.store));
      }
      const view = new WorkerRunView(stored.run, stored.steps);
      this.runs.delete(runId);
      this.runs.set(runId, view);
      if (this.runs.size > this.maxRuns) this.runs.delete(this.runs.keys().next().value!);
      return view;
    });
    this.loading.set(runId, loading);
    const done = () => {
      if (this.loading.get(runId) === loading) this.loading.delete(runId);
    };
    loading.then(done, done);
    return loading;
  }

  /**
   * Reads the records of `needed` that `view` misses at their planned generations, one by one
   * (the store's optional `getStepRecord`). False when the store cannot, or one is missing or
   * not completed.
   */
  private async fillIn(view: WorkerRunView, needed: readonly string[], generationOf: PlannedGenerations): Promise<boolean> {
    if (this.prefetching.size > 0) {
      await Promise.all(needed.map((id) => this.prefetching.get(prefetchKey(view.run.runId, id))));
      if (view.hasCompleted(needed, generationOf)) return true;
    }
    const missing = needed.filter((id) => !view.isCompleted(id, generationOf(id)));
    if (this.store.getStepRecord === undefined || missing.length > 16) return false;
    const found = await findStepRecords(this.store, view.run.runId, missing.map((stepId) => ({ stepId, generation: generationOf(stepId) })));
    for (const record of found.values()) view.add(record);
    return view.hasCompleted(needed, generationOf);
  }

  /**
   * The deps of run `runId`: `build()`'s, called once per run while the run stays cached (a
   * build that fails is not kept: the next job of the run builds them again).
   */
  depsOf(runId: string, build: () => unknown): Promise<unknown> {
    let deps = this.deps.get(runId);
    if (deps === undefined) {
      deps = new Promise<unknown>((resolve) => resolve(build()));
      const built = deps;
      built.catch(() => {
        if (this.deps.get(runId) === built) this.deps.delete(runId);
      });
    } else {
      this.deps.delete(runId);
    }
    this.deps.set(runId, deps);
    if (this.deps.size > this.maxRuns) this.deps.delete(this.deps.keys().next().value!);
    return deps;
  }

  /** The run's view, when this worker holds one (nothing is read). */
  peek(runId: string): WorkerRunView | undefined {
    return this.runs.get(runId);
  }

  /**
   * Reads the record of `stepId` at `generation` into `view` ahead of the job that needs it
   * (another worker wrote it; one read for the records asked for in the same tick), unless
   * {@link PREFETCHES_IN_FLIGHT} are in flight already or this one is. A failed read is let go:
   * the job reads the record itself.
   */
  prefetch(view: WorkerRunView, stepId: string, generation: number): void {
    const runId = view.run.runId;
    const key = prefetchKey(runId, stepId);
    if (this.prefetching.has(key) || this.prefetching.size >= PREFETCHES_IN_FLIGHT) return;
    const read = this.reader.read(this.store, runId, { stepId, generation }).then(
      (record) => {
        if (record !== undefined) view.add(record);
      },
      () => undefined,
    );
    this.prefetching.set(key, read.then(() => void this.prefetching.delete(key)));
  }

  /** Reads the record of `stepId` at `generation` into `view`, if the store has one (written since the view was read). */
  async readRecord(view: WorkerRunView, stepId: string, generation: number): Promise<void> {
    const found = await findStepRecords(this.store, view.run.runId, [{ stepId, generation }]);
    for (const record of found.values()) view.add(record);
  }

  /** A record this worker wrote or found. */
  remember(runId: string, record: StepRecord): void {
    this.runs.get(runId)?.add(record);
  }
}

/** A read ahead's key: the run and the step (ids with newlines could collide: a job then waits for another read, and reads its own). */
function prefetchKey(runId: string, stepId: string): string {
  return `${runId}\n${stepId}`;
}
