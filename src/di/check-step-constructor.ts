import type { DependencyContainer } from 'tsyringe';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { describeUnresolvableParameter } from './describe-unresolvable-parameter';
import { findUnresolvableParameter } from './find-unresolvable-parameter';

/**
 * The DI check a pipeline can make at construction: a class step's own constructor
 * parameters must each have a token tsyringe can resolve (an `@inject` token, or a class
 * type). Whether string/symbol tokens are registered is checked when a run resolves the
 * step (services may be registered after the pipeline is built).
 *
 * @throws PipelineValidationError naming the step, when a parameter is typed as an
 *   interface without `@inject`, is undefined (circular import), or the class has
 *   constructor parameters and no type information (no `@Step`)
 */
export function checkStepConstructor(stepId: string, stepClass: Function, container: DependencyContainer): void {
  if (container.isRegistered(stepClass as never, true)) return; // registered by the app: a factory or value may build it
  const isRegistered = (token: unknown) =>
    typeof token === 'string' || typeof token === 'symbol' || container.isRegistered(token as never, true);
  const found = findUnresolvableParameter(stepClass, isRegistered, 1);
  if (found !== undefined) throw new PipelineValidationError(`Step '${stepId}': ${describeUnresolvableParameter(found)}`);
}
