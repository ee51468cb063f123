import type { DependencyContainer } from 'tsyringe';
import { DEPS, TRACER } from '../di/tokens';
import { explainResolutionFailure } from '../di/explain-resolution-failure';
import { StepExecutionError } from '../errors/step-execution-error';
import type { StepLike } from '../steps/base-step';
import type { Tracer } from '../tracing/tracer';
import type { PipelineDefinition } from './pipeline-definition';
import { reportHookFailure } from '../tracing/report-hook-failure';

/** The step instances of one run, and the run's child container when it has class steps. */
export interface RunStepInstances {
  readonly steps: readonly StepLike[];
  /** Dispose it when the run ends: its `ContainerScoped` services are the run's. */
  readonly container: DependencyContainer | undefined;
}

/**
 * The step instances of one run. Class steps are resolved from a child container of the
 * pipeline's container in which `DEPS` and `TRACER` hold this run's deps and tracer, all
 * before any step runs; instances are used as they are. A step that the run restores instead
 * of running (`restores`, a resume) is not resolved: a resume of a completed run builds nothing,
 * and a service that cannot be made in the resuming process fails only the steps that need it.
 *
 * @throws StepExecutionError naming the step when its class cannot be resolved (the child
 *   container is disposed first)
 */
export function resolveStepInstances(
  definition: PipelineDefinition,
  deps: unknown,
  tracer: Tracer,
  restores: (index: number) => boolean = NOTHING_RESTORED,
): RunStepInstances {
  const shared = sharedInstancesOf(definition);
  if (shared !== undefined) return shared;
  const child = definition.container.createChildContainer();
  // A factory, not registerInstance: tsyringe takes `useValue: undefined` (no deps given) for no provider at all.
  child.register(DEPS, { useFactory: () => deps });
  child.register(TRACER, { useFactory: () => tracer });
  const steps = definition.sources.map((source, index) => {
    if (source.instance !== undefined) return source.instance;
    if (restores(index)) return NOT_RUN;
    try {
      return child.resolve(source.stepClass as unknown as new (...args: unknown[]) => StepLike);
    } catch (error) {
      // Name the missing token, not just tsyringe's parameter name.
      const failure = new StepExecutionError(definition.graph.ids[index], explainResolutionFailure(child, source.stepClass, error));
      disposeRunContainer(child);
      throw failure;
    }
  });
  return { steps, container: child };
}

const NOTHING_RESTORED = (): boolean => false;

/** The instance of a step a resume restores: never run (the scheduler counts it done). */
const NOT_RUN: StepLike = {
  execute() {
    throw new Error('fastroai internal error: a restored step was run');
  },
};

/**
 * Disposes a run's child container (its `ContainerScoped` services that implement `dispose`).
 * Not awaited: a disposer that hangs cannot keep a run from settling, and one that throws or
 * rejects is reported and ignored.
 */
export function disposeRunContainer(container: DependencyContainer): void {
  try {
    Promise.resolve(container.dispose()).catch((error: unknown) => reportHookFailure(container, 'disposing the run\'s DI container', error));
  } catch (error) {
    reportHookFailure(container, 'disposing the run\'s DI container', error);
  }
}

/** A pipeline's instances when it has no class steps: every run uses the same ones (`null`: it has class steps). */
const sharedInstances = new WeakMap<PipelineDefinition, RunStepInstances | null>();

function sharedInstancesOf(definition: PipelineDefinition): RunStepInstances | undefined {
  let shared = sharedInstances.get(definition);
  if (shared === undefined) {
    shared = definition.sources.every((source) => source.instance !== undefined)
      ? { steps: definition.sources.map((source) => source.instance!), container: undefined }
      : null;
    sharedInstances.set(definition, shared);
  }
  return shared ?? undefined;
}
