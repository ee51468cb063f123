import type { StepExecutionError } from '../errors/step-execution-error';
import type { StepGraph } from '../graph/step-graph';
import { StepState } from '../scheduler/dependency-scheduler';
import { EMPTY_STEP_USAGE, type StepUsage } from '../usage/step-usage';
import { PipelineUsage } from '../usage/pipeline-usage';
import type { StepTiming } from './pipeline-result';

/**
 * One run's per-step facts, by step index: output, when it ran (ms since this process started
 * the run), attempts and usage. What a run store persists per step is read from here, and a
 * resume fills it back from the records. Flat typed arrays: one allocation per run, none per step.
 */
export class RunStepTable {
  readonly outputs: unknown[];
  readonly startMs: Float64Array;
  readonly endMs: Float64Array;
  readonly attempts: Int32Array;
  /** Usage by step id, for steps that made a `ctx.run` call (undefined until one did). */
  usages: Record<string, StepUsage> | undefined;
  /**
   * What each running step was billed so far, by index (set by its `ctx.run` calls; undefined
   * until a step made one): counted in a run's `runUsage` when the run ends before the step does.
   */
  liveUsages: (StepUsage | undefined)[] | undefined;
  /** Usage waiting with a synchronous end (see SyncEndRing), by index. */
  pendingUsages: (StepUsage | undefined)[] | undefined;
  /** Failures waiting for their record, by index (runs with a store). */
  pendingFailures: (StepExecutionError | undefined)[] | undefined;
  /**
   * Steps restored from a store's records (their timings are already relative to the run's
   * first start): 1 a completed one, 2 a failure (a resume of a completed run).
   */
  restored: Uint8Array | undefined;
  /** The worker that ran each step, by index (steps run by a remote runner's workers). */
  workerIds: (string | undefined)[] | undefined;

  constructor(size: number) {
    // One buffer for the per-step numbers of the run: one allocation instead of three.
    const buffer = new ArrayBuffer(size * 20);
    this.startMs = new Float64Array(buffer, 0, size);
    this.endMs = new Float64Array(buffer, size * 8, size);
    this.attempts = new Int32Array(buffer, size * 16, size);
    this.outputs = new Array<unknown>(size);
  }

  setWorkerId(index: number, workerId: string | undefined): void {
    if (workerId !== undefined) (this.workerIds ??= [])[index] = workerId;
  }

  setUsage(stepId: string, usage: StepUsage): void {
    (this.usages ??= {})[stepId] = usage;
  }

  /** Step `stepId`'s usage: the empty (frozen, shared) usage when it made no `ctx.run` call. */
  usageOf(stepId: string): StepUsage {
    return this.usages?.[stepId] ?? EMPTY_STEP_USAGE;
  }

  /**
   * What the run's steps were billed: each settled step's usage, and what a step still running
   * (cut off by the run's end) was billed so far. Undefined when no step made a `ctx.run` call.
   */
  runUsage(graph: StepGraph): PipelineUsage | undefined {
    const live = this.liveUsages;
    if (live === undefined) return this.usages === undefined ? undefined : PipelineUsage.fromStepUsages(this.usages);
    const usages: Record<string, StepUsage> = { ...this.usages };
    live.forEach((usage, index) => {
      const stepId = graph.ids[index];
      if (usage !== undefined && usages[stepId] === undefined) usages[stepId] = usage;
    });
    return PipelineUsage.fromStepUsages(usages);
  }

  /** Every completed step's output, by id. */
  collectStepOutputs(graph: StepGraph, state: Uint8Array): Record<string, unknown> {
    const stepOutputs: Record<string, unknown> = {};
    for (let index = 0; index < graph.ids.length; index++) {
      if (state[index] === StepState.Completed) stepOutputs[graph.ids[index]] = this.outputs[index];
    }
    return stepOutputs;
  }

  /**
   * Timings of the steps that completed or failed. `offsetMs` moves this process's timings to
   * the run's first start (a resume); restored steps' timings are relative to it already.
   */
  collectTimings(graph: StepGraph, state: Uint8Array, offsetMs: number): Record<string, StepTiming> {
    const timings: Record<string, StepTiming> = {};
    const restored = this.restored;
    for (let index = 0; index < graph.ids.length; index++) {
      const stepState = state[index];
      if (stepState !== StepState.Completed && stepState !== StepState.Failed) continue;
      const shift = restored !== undefined && restored[index] !== 0 ? 0 : offsetMs;
      const timing: StepTiming = { startMs: this.startMs[index] + shift, endMs: this.endMs[index] + shift, attempts: this.attempts[index] };
      const workerId = this.workerIds?.[index];
      if (workerId !== undefined) timing.workerId = workerId;
      timings[graph.ids[index]] = timing;
    }
    return timings;
  }
}
