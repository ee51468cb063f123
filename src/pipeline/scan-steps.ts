import type { DependencyReference } from '../../decorators/metadata';
import { describeValue } from '../config/step-config';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { isStepClass, type StepClass } from '../steps/base-step';
import { nameOfClass, readStepDeclaration } from '../steps/read-step-declaration';
import { resolveDependsOn } from './resolve-depends-on';

/** The plain form of a decorated pipeline: what `new Pipeline({ steps, dependencies })` takes. */
export interface ScannedSteps {
  /** The classes by step id, in the order given. */
  steps: Record<string, StepClass>;
  /** Each step's direct dependencies by id (steps without any are left out), in source order. */
  dependencies: Record<string, string[]>;
}

/**
 * Reads the `@Step` and `@DependsOn` metadata of step classes and builds the plain
 * definition of their DAG. `Pipeline.fromSteps` is this plus `new Pipeline`.
 *
 * Cycles, a missing output step and the other graph errors are left to `new Pipeline`, which
 * reports them as for any pipeline.
 *
 * @throws PipelineValidationError naming the class: not a class, no `execute`, no `@Step`,
 *   `@DependsOn` without `@Step`, invalid `@Step` options, a class listed twice, two classes
 *   with one id, and the `@DependsOn` errors of {@link resolveDependsOn}
 * @example
 * scanSteps([ExtractStep, ClassifyStep])
 * // { steps: { extract: ExtractStep, classify: ClassifyStep }, dependencies: { classify: ['extract'] } }
 */
export function scanSteps(classes: readonly unknown[]): ScannedSteps {
  if (!Array.isArray(classes)) {
    throw new PipelineValidationError(`Pipeline.fromSteps: steps must be an array of step classes, got ${describeValue(classes)}`);
  }
  const steps: Record<string, StepClass> = {};
  const idOf = new Map<Function, string>();
  const declared: Array<{ id: string; stepClass: StepClass; dependsOn: readonly DependencyReference[] }> = [];
  classes.forEach((value, index) => {
    const stepClass = checkStepClass(value, index);
    if (idOf.has(stepClass)) throw new PipelineValidationError(`${nameOfClass(stepClass)} is listed twice in steps`);
    const declaration = readStepDeclaration(stepClass);
    if (declaration === undefined) {
      throw new PipelineValidationError(
        `${nameOfClass(stepClass)} has no @Step: Pipeline.fromSteps builds the DAG from @Step/@DependsOn, so add @Step() to the class`,
      );
    }
    const { id } = declaration;
    // Assigning the key `__proto__` would replace the record's prototype and lose the step.
    if (id === '__proto__') throw new PipelineValidationError(`Step id '__proto__' is not allowed (${nameOfClass(stepClass)})`);
    if (Object.hasOwn(steps, id)) {
      const other = nameOfClass(steps[id]);
      const same = other === nameOfClass(stepClass) ? ' (two classes of the same name)' : '';
      throw new PipelineValidationError(
        `${other} and ${nameOfClass(stepClass)} both have the step id '${id}'${same}: give one of them @Step({ id: '...' })`,
      );
    }
    steps[id] = stepClass;
    idOf.set(stepClass, id);
    declared.push({ id, stepClass, dependsOn: declaration.dependsOn });
  });
  const scope = { idOfClass: (candidate: Function) => idOf.get(candidate), hasStep: (id: string) => Object.hasOwn(steps, id), stepIds: () => Object.keys(steps) };
  const dependencies: Record<string, string[]> = {};
  for (const { id, stepClass, dependsOn } of declared) {
    if (dependsOn.length === 0) continue;
    dependencies[id] = [...new Set(resolveDependsOn(id, stepClass, dependsOn, scope))];
  }
  return { steps, dependencies };
}

function checkStepClass(value: unknown, index: number): StepClass {
  if (typeof value !== 'function') {
    const instanceOf =
      typeof value === 'object' && value !== null && typeof (value as { constructor?: unknown }).constructor === 'function'
        ? ` (an instance of ${nameOfClass((value as { constructor: Function }).constructor)}: pass the class, or put instances in new Pipeline({ steps }))`
        : '';
    throw new PipelineValidationError(`Pipeline.fromSteps: steps[${index}] is not a step class, got ${describeValue(value)}${instanceOf}`);
  }
  if (!isStepClass(value)) {
    throw new PipelineValidationError(`${nameOfClass(value)} has no execute(ctx) method: a step class must implement it`);
  }
  return value;
}
