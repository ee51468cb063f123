import { addDependsOnMetadata, type DependencyReference } from './metadata';
import type { StepClass } from '../src/steps/base-step';

/**
 * Declares the steps a step class depends on: step ids, step classes, or thunks returning a
 * class (`() => LaterStep`, for a class declared further down the file). Repeated decorators
 * add up. The class needs `@Step` too.
 *
 * It only records the references as given; they are resolved to ids, and checked against
 * the pipeline's steps, when a pipeline is built.
 *
 * @example
 * @Step()
 * @DependsOn(ExtractStep, () => LookupStep)
 * @DependsOn('config')
 * class ClassifyStep extends BaseStep { ... }
 * @see Step
 */
export function DependsOn(...dependencies: Array<string | StepClass | (() => StepClass)>): ClassDecorator {
  return (target) => {
    addDependsOnMetadata(target, dependencies as DependencyReference[]);
  };
}
