import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock/clock';
import type { RunBudget } from '../context/run-budget';
import type { DurableRun } from '../durable/durable-run';
import { fingerprintOf } from '../durable/fingerprint-of';
import { FastroAIError } from '../errors/fastroai-error';
import { toError } from '../errors/step-execution-error';
import type { CancelScope } from '../executor/cancel-scope';
import type { StepOutcome, StepTask } from '../executor/run-step-task';
import type { StepRunner } from '../executor/step-runner';
import { ancestorsOf } from '../graph/ancestors-of';
import type { StepGraph } from '../graph/step-graph';
import type { StepLike } from '../steps/base-step';
import type { StepRecord } from '../store/run-store';
import type { Tracer } from '../tracing/tracer';
import type { StepUsage } from '../usage/step-usage';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import { LazyProperty, setLazySource } from './lazy-property';
import type { RunStepTable } from './run-step-table';

/** What handing a step to a runner needs from its run, and where the step's end goes back. */
export interface RunnerHandOffHost {
  readonly runId: string;
  readonly definition: PipelineDefinition;
  readonly graph: StepGraph;
  readonly table: RunStepTable;
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly runBudget: RunBudget;
  readonly cancelScope: CancelScope;
  /** The run's clock: an in-process runner times the step on it. */
  readonly clock: Clock;
  readonly emit: ((event: PipelineEvent) => void) | undefined;
  readonly durable: DurableRun | undefined;
  /** True once the run ended: a late report of an attempt is dropped. */
  readonly finished: boolean;
  /** The run's step instances (what the executor sees of the run). */
  readonly scope: { stepAt(index: number): StepLike };
  stepCompleted(index: number, output: unknown, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord): void;
  stepFailed(index: number, error: unknown, usage: StepUsage | undefined, attempts: number, recorded?: StepRecord | null): void;
  stepWithdrawn(index: number): void;
  /** Aborts when the run starts no more steps (StepTask.stopStarting). */
  readonly stopStartingSignal: AbortSignal;
}

/**
 * Hands step `index` of `run` to `runner` as data (a {@link StepTask}: API.md §13), and goes
 * on with its outcome as with the in-process executor's: `stepCompleted` or `stepFailed`. The
 * attempts the runner reports become `step.started` / `step.retrying` / `call.retrying` events.
 */
export function runOnRunner(run: RunnerHandOffHost, runner: StepRunner, index: number): void {
  const graph = run.graph;
  const stepId = graph.ids[index];
  const level = graph.levelOf[index];
  const task = {
    runId: run.runId,
    stepId,
    step: run.scope.stepAt(index),
    config: run.definition.configs[index],
    inputs: run.inputs,
    deps: run.deps,
    tracer: run.tracer,
    signal: runnerSignal(run.cancelScope),
    stopStarting: run.stopStartingSignal,
    runBudget: run.runBudget,
    clock: run.clock,
    // No listener, no progress: a remote runner need not send any.
    onAttempt: run.emit === undefined ? undefined : (event) => {
      if (run.finished) return;
      if (event.type !== 'step.started') {
        run.emit?.({ type: event.type, stepId, attempt: event.attempt, error: toError(event.error), delaySeconds: event.delaySeconds });
      } else if (event.workerId === undefined) run.emit?.({ type: 'step.started', stepId, level, attempt: event.attempt });
      else run.emit?.({ type: 'step.started', stepId, level, attempt: event.attempt, workerId: event.workerId });
    },
  } as StepTask;
  // On first read: a queue runner's worker reads the outputs from the store and never asks, and
  // building them costs O(ancestors) a step (a chain's step i has i).
  DEPENDENCY_OUTPUTS.defineOn(task);
  setLazySource(task, { graph, outputs: run.table.outputs, index } satisfies VisibleOutputsSource);
  const durable = run.durable;
  if (durable !== undefined) {
    task.durable = {
      store: durable.store,
      pipeline: run.definition.name,
      fingerprint: fingerprintOf(graph, run.definition.outputStep),
      generation: durable.generationAt(index),
      epoch: durable.epoch,
    };
    const ancestorGenerations = durable.ancestorGenerationsOf(graph, index);
    if (ancestorGenerations !== undefined) task.durable.ancestorGenerations = ancestorGenerations;
  }
  let outcome: Promise<StepOutcome>;
  try {
    outcome = runner.runStep(task);
  } catch (error) {
    outcome = Promise.reject(error);
  }
  Promise.resolve(outcome).then(
    (ended) => {
      if (ended.generation !== undefined && ended.recorded !== undefined && ended.recorded.generation !== ended.generation) {
        // A runner's bug: the step's generation is not known.
        const error = new FastroAIError(`The runner of step '${stepId}' says it ran at generation ${ended.generation}, and recorded it at generation ${ended.recorded.generation}`);
        run.stepFailed(index, error, ended.usage, ended.attempts);
        return;
      }
      // A generation the runner moved the step to (see StepOutcome.generation).
      if (ended.status === 'withdrawn') return run.stepWithdrawn(index);
      if (ended.generation !== undefined) durable?.moveGeneration(index, ended.generation);
      if (ended.status === 'failed') run.stepFailed(index, ended.error, ended.usage, ended.attempts, ended.recorded);
      else run.stepCompleted(index, ended.output, ended.usage, ended.attempts, ended.recorded);
    },
    // A runner that records its steps (a queue's workers) failed to say how the step ended: a
    // worker may still record it, and that record must win, so the run writes none of its own.
    (error: unknown) => run.stepFailed(index, error, undefined, 1, runner.requiresStore === true ? null : undefined),
  );
}

/** What a task's lazy `dependencyOutputs` are computed from (the run's outputs: its ancestors' are final). */
interface VisibleOutputsSource {
  graph: StepGraph;
  outputs: readonly unknown[];
  index: number;
}

const DEPENDENCY_OUTPUTS = new LazyProperty<VisibleOutputsSource, Record<string, unknown>>('dependencyOutputs', (source) =>
  visibleOutputs(source.graph, source.outputs, source.index),
);

/** The outputs step `index` may read: its transitive dependencies', by id. */
export function visibleOutputs(graph: StepGraph, outputs: readonly unknown[], index: number): Record<string, unknown> {
  const visible: Record<string, unknown> = {};
  for (const ancestor of ancestorsOf(graph, index)) visible[graph.ids[ancestor]] = outputs[ancestor];
  return visible;
}

/** Run signals already allowed any number of listeners. */
const sharedSignals = new WeakSet<AbortSignal>();

/**
 * The run's signal, as every task handed to a runner gets it: each running task listens to
 * it, so a wide fan-out adds more than Node's default of 10 listeners (not a leak: a task
 * removes its listener when it ends).
 */
function runnerSignal(cancelScope: CancelScope): AbortSignal {
  const signal = cancelScope.signal;
  if (!sharedSignals.has(signal)) {
    setMaxListeners(0, signal);
    sharedSignals.add(signal);
  }
  return signal;
}
