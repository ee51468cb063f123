import type { DependencyContainer } from 'tsyringe';
import { DEPS, TRACER } from '../di/tokens';
import { explainResolutionFailure } from '../di/explain-resolution-failure';
import { StepExecutionError } from '../errors/step-execution-error';
import type { StepLike } from '../steps/base-step';
import type { Tracer } from '../tracing/tracer';
import type { PipelineDefinition } from './pipeline-definition';

/**
 * The step instances of one run. Class steps are resolved from a child container of the
 * pipeline's container in which `DEPS` and `TRACER` hold this run's deps and tracer, all
 * before any step runs; instances are used as they are.
 *
 * @throws StepExecutionError naming the step when its class cannot be resolved
 */
export function resolveStepInstances(definition: PipelineDefinition, deps: unknown, tracer: Tracer): readonly StepLike[] {
  const shared = sharedInstancesOf(definition);
  if (shared !== undefined) return shared;
  let child: DependencyContainer | undefined;
  return definition.sources.map((source, index) => {
    if (source.instance !== undefined) return source.instance;
    if (child === undefined) {
      child = definition.container.createChildContainer();
      child.registerInstance(DEPS, deps);
      child.registerInstance(TRACER, tracer);
    }
    try {
      return child.resolve(source.stepClass as unknown as new (...args: unknown[]) => StepLike);
    } catch (error) {
      // Name the missing token, not just tsyringe's parameter name.
      throw new StepExecutionError(definition.graph.ids[index], explainResolutionFailure(child, source.stepClass, error));
    }
  });
}

/** A pipeline's instances when it has no class steps: every run uses the same ones (`null`: it has class steps). */
const sharedInstances = new WeakMap<PipelineDefinition, readonly StepLike[] | null>();

function sharedInstancesOf(definition: PipelineDefinition): readonly StepLike[] | undefined {
  let shared = sharedInstances.get(definition);
  if (shared === undefined) {
    shared = definition.sources.every((source) => source.instance !== undefined)
      ? definition.sources.map((source) => source.instance!)
      : null;
    sharedInstances.set(definition, shared);
  }
  return shared ?? undefined;
}
