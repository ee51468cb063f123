import { DEPS, TRACER } from '../di/tokens';
import { explainResolutionFailure } from '../di/explain-resolution-failure';
import { StepExecutionError } from '../errors/step-execution-error';
import type { PipelineDefinition } from '../pipeline/pipeline-definition';
import { disposeRunContainer } from '../pipeline/resolve-step-instances';
import type { StepLike } from '../steps/base-step';
import type { Tracer } from '../tracing/tracer';

/**
 * The instance of one step for one job: a step instance as it is, a step class resolved from a
 * child container of the pipeline's (with `DEPS` and `TRACER` of this job), disposed after.
 *
 * @throws StepExecutionError naming the step when its class cannot be resolved
 */
export function resolveStepInstance(definition: PipelineDefinition, index: number, deps: unknown, tracer: Tracer): { step: StepLike; dispose(): void } {
  const source = definition.sources[index];
  if (source.instance !== undefined) return { step: source.instance, dispose: () => undefined };
  const child = definition.container.createChildContainer();
  // A factory, not registerInstance: tsyringe takes `useValue: undefined` (no deps given) for no provider at all.
  child.register(DEPS, { useFactory: () => deps });
  child.register(TRACER, { useFactory: () => tracer });
  try {
    const step = child.resolve(source.stepClass as unknown as new (...args: unknown[]) => StepLike);
    return { step, dispose: () => disposeRunContainer(child) };
  } catch (error) {
    const failure = new StepExecutionError(definition.graph.ids[index], explainResolutionFailure(child, source.stepClass, error));
    disposeRunContainer(child);
    throw failure;
  }
}
