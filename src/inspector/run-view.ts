import { parseFingerprint } from '../durable/fingerprint-of';
import { buildStepGraph } from '../graph/build-step-graph';
import type { StepGraph } from '../graph/step-graph';
import { findCriticalPath } from '../pipeline/to-mermaid-gantt';
import type { StepTiming } from '../pipeline/pipeline-result';
import type { RunRecord, StepRecord } from '../store/run-store';
import { isSuperseded } from '../store/superseded-record';

/**
 * The state the inspector shows for a step:
 * - `completed`, `failed`, `incomplete` (returned an INCOMPLETE ConversationState): from its latest record;
 * - `running`: the run is running and every dependency completed (the engine starts such a step
 *   at once, unless `maxConcurrency` holds it back: the store records a step only when it ends,
 *   so this state is inferred). A step that a resumed run runs again after it failed or returned
 *   INCOMPLETE counts as not recorded; one that a `rerun` runs again shows its completed
 *   record until the new one lands (the store does not say which steps a rerun named);
 * - `skipped`: a dependency failed or stopped, or the run ended before it was reached;
 * - `pending`: the run is running and a dependency has not completed yet.
 */
export type StepState = 'completed' | 'failed' | 'incomplete' | 'running' | 'pending' | 'skipped';

/** One step of a {@link RunView}. */
export interface StepView {
  readonly id: string;
  /** Position in the graph (declaration order). */
  readonly index: number;
  /** Longest path from a step without dependencies (0 for those). */
  readonly level: number;
  /** Indices of its direct dependencies. */
  readonly dependencies: readonly number[];
  readonly state: StepState;
  /** The record of its latest generation, if it has one. */
  readonly record: StepRecord | undefined;
  /** How many records it has (reruns and resumes add generations). */
  readonly generations: number;
  /** Start and end in ms since the run's first recorded step started; undefined without a record. */
  readonly timing: StepTiming | undefined;
  /** On the chain of steps that held the run up. */
  readonly critical: boolean;
}

/** A run as the inspector shows it: its record, the graph from its fingerprint and each step's state. */
export interface RunView {
  readonly run: RunRecord;
  readonly steps: readonly StepView[];
  /** Whether the graph's edges are known (from the fingerprint): without them the DAG shows steps only. */
  readonly hasEdges: boolean;
  readonly outputStep: string | undefined;
  /** Epoch ms that timings count from: the earliest recorded start, else the run's creation. */
  readonly originMs: number;
  /** Sum of the latest records' cost (what the table's total shows). */
  readonly stepsCostMicrocents: number;
  /**
   * The workers that ran its steps (a distributed run, API.md §13: `record.workerId` of the
   * latest records), in the order their first step started, with how many steps each ran;
   * empty for an in-process run.
   */
  readonly workers: readonly WorkerShare[];
}

/** One worker of a distributed run and how many of the run's steps (latest records) it ran. */
export interface WorkerShare {
  readonly workerId: string;
  readonly steps: number;
}


/**
 * Builds the view of a run from what the store returns: the graph comes from the run's
 * fingerprint (step ids, dependencies, output step), so the inspector needs no pipeline to draw
 * it; steps recorded but missing from the fingerprint (a store written by something else) are
 * added without edges.
 */
export function buildRunView(run: RunRecord, records: readonly StepRecord[]): RunView {
  const latest = new Map<string, StepRecord>();
  const generations = new Map<string, number>();
  for (const record of records) {
    const current = latest.get(record.stepId);
    if (current === undefined || record.generation >= current.generation) latest.set(record.stepId, record);
    generations.set(record.stepId, (generations.get(record.stepId) ?? 0) + 1);
  }
  const shape = parseFingerprint(run.fingerprint);
  const ids = shape === undefined ? [] : Object.keys(shape.steps);
  for (const id of latest.keys()) if (shape === undefined || !Object.hasOwn(shape.steps, id)) ids.push(id);
  let graph: StepGraph | undefined;
  if (ids.length > 0) {
    try {
      graph = buildStepGraph(ids, shape === undefined ? {} : pickKnown(shape.steps, ids));
    } catch {
      graph = buildStepGraph(ids.filter((id) => id !== '__proto__'), {});
    }
  }
  const originMs = records.reduce((earliest, record) => Math.min(earliest, record.startedAt), Number.POSITIVE_INFINITY);
  const origin = Number.isFinite(originMs) ? originMs : run.createdAt;
  const timings: Record<string, StepTiming> = {};
  for (const [id, record] of latest) {
    if (graph?.indexOf.has(id)) timings[id] = { startMs: record.startedAt - origin, endMs: record.endedAt - origin, attempts: record.attempts };
  }
  // Deepest steps first: on a tie of end times (records have ms resolution) the walk starts
  // from the step the others led to.
  const timed = graph === undefined ? [] : graph.ids.filter((id) => Object.hasOwn(timings, id));
  if (graph !== undefined) timed.sort((a, b) => graph!.levelOf[graph!.indexOf.get(b)!] - graph!.levelOf[graph!.indexOf.get(a)!]);
  const critical = new Set(graph === undefined ? [] : findCriticalPath(timings, timed, { name: run.pipeline, graph }));
  const steps: StepView[] = [];
  const states: StepState[] = [];
  // A running run that was resumed runs its INCOMPLETE and failed steps again: their records
  // from before the resume (its `updatedAt`) are history, not their state. So is a superseded
  // record, in any run: the step runs, or was to run, at the next generation.
  const current = (record: StepRecord | undefined) =>
    record !== undefined && (isSuperseded(record) || (run.status === 'running' && record.status !== 'completed' && record.endedAt <= run.updatedAt)) ? undefined : record;
  if (graph !== undefined) {
    // Dependencies first (by level), so a step's state can look at its dependencies' states.
    const order = graph.ids.map((_, index) => index).sort((a, b) => graph!.levelOf[a] - graph!.levelOf[b] || a - b);
    for (const index of order) {
      const id = graph.ids[index];
      const record = latest.get(id);
      states[index] = stateOf(current(record), graph.dependencies[index].map((dependency) => states[dependency]), run.status === 'running');
    }
    graph.ids.forEach((id, index) => {
      steps.push({
        id,
        index,
        level: graph!.levelOf[index],
        dependencies: graph!.dependencies[index],
        state: states[index],
        record: latest.get(id),
        generations: generations.get(id) ?? 0,
        timing: Object.hasOwn(timings, id) ? timings[id] : undefined,
        critical: critical.has(id),
      });
    });
  }
  let stepsCostMicrocents = 0;
  for (const record of latest.values()) stepsCostMicrocents += record.usage?.costMicrocents ?? 0;
  return {
    workers: workersOf([...latest.values()]),
    run,
    steps,
    hasEdges: shape !== undefined,
    outputStep: shape?.output,
    originMs: origin,
    stepsCostMicrocents,
  };
}

/** The workers of the latest records, by their first step's start; a hand-written store's non-string ids as text. */
function workersOf(records: StepRecord[]): WorkerShare[] {
  const counts = new Map<string, number>();
  const byStart = records.filter((record) => record.workerId !== undefined && record.workerId !== null);
  byStart.sort((a, b) => a.startedAt - b.startedAt);
  for (const record of byStart) {
    const workerId = String(record.workerId);
    counts.set(workerId, (counts.get(workerId) ?? 0) + 1);
  }
  return [...counts].map(([workerId, steps]) => ({ workerId, steps }));
}

const RECORD_STATES: ReadonlySet<string> = new Set(['completed', 'failed', 'incomplete']);

function stateOf(record: StepRecord | undefined, dependencyStates: StepState[], runIsRunning: boolean): StepState {
  // A store written by something else may hold any text: the state is always one of ours.
  if (record !== undefined) return RECORD_STATES.has(record.status) ? record.status : 'failed';
  if (!runIsRunning) return 'skipped';
  if (dependencyStates.every((state) => state === 'completed')) return 'running';
  if (dependencyStates.some((state) => state === 'failed' || state === 'incomplete' || state === 'skipped')) return 'skipped';
  return 'pending';
}


/** The dependency lists of `steps`, keeping only ids of the graph (a hand-written store may name others). */
function pickKnown(steps: Record<string, string[]>, ids: readonly string[]): Record<string, string[]> {
  const known = new Set(ids);
  // No prototype: a step id `__proto__` stays a key (buildStepGraph then refuses it, and the view falls back).
  const picked: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [id, dependencies] of Object.entries(steps)) picked[id] = dependencies.filter((dependency) => known.has(dependency));
  return picked;
}
