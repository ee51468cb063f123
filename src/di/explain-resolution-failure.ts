import type { DependencyContainer } from 'tsyringe';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { describeUnresolvableParameter, formatToken } from './describe-unresolvable-parameter';
import { findUnresolvableParameter } from './find-unresolvable-parameter';

/**
 * Turns a failed `container.resolve(StepClass)` into an error that names the missing token.
 * tsyringe's own message names the constructor parameter (`Cannot inject the dependency
 * "classifier" at position #0 …`); this one walks the class's parameters against the
 * container and says which token is missing and why. When nothing is missing (the
 * constructor itself threw), the original error is returned as it is.
 */
export function explainResolutionFailure(container: DependencyContainer, stepClass: Function, error: unknown): unknown {
  const found = findUnresolvableParameter(stepClass, (token) => container.isRegistered(token as never, true));
  if (found === undefined) return error;
  return new PipelineValidationError(`Cannot construct ${formatToken(stepClass)}: ${describeUnresolvableParameter(found)}`, {
    cause: error,
  });
}
