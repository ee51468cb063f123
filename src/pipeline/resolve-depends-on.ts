import { readStepMetadata, type DependencyReference } from '../../decorators/metadata';
import { unknownIdError, validationErrorWithHint } from '../graph/unknown-id-hint';
import { describeValue } from '../config/step-config';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { isStepClass } from '../steps/base-step';
import { nameOfClass, unknownClassId } from '../steps/read-step-declaration';

/** What {@link resolveDependsOn} needs to know about the pipeline being built. */
export interface DependsOnScope {
  /** The id of a class among the pipeline's steps; undefined for a class that is not one of them. */
  idOfClass(candidate: Function): string | undefined;
  /** True when `id` is one of the pipeline's step ids. */
  hasStep(id: string): boolean;
  /** The pipeline's step ids, for the message about an unknown one. */
  stepIds(): readonly string[];
}

/**
 * Turns the `@DependsOn` references of one step class (ids, classes, thunks) into step ids.
 *
 * A function is a class reference when it is one of the pipeline's step classes, carries
 * `@Step`, has `execute` on its prototype or is written with `class`; any other function is a
 * thunk (`() => LaterStep`) and is called here, at pipeline construction, when every class
 * of the module exists.
 *
 * @param stepId the declaring step's id; @param stepClass its class (both for messages)
 * @throws PipelineValidationError: an unknown id or a class not among the pipeline's steps
 *   (API.md's `Step 'a' depends on unknown: 'x'`, the class in its `hint`), or, naming the
 *   class, a thunk that returns nothing or no class, a reference of another type
 */
export function resolveDependsOn(
  stepId: string,
  stepClass: Function,
  references: readonly DependencyReference[],
  scope: DependsOnScope,
): string[] {
  const where = `@DependsOn on ${nameOfClass(stepClass)}`;
  return references.map((reference) => {
    if (typeof reference === 'string') {
      if (!scope.hasStep(reference)) {
        throw unknownIdError(`Step '${stepId}' depends on unknown: '${reference}'`, reference, scope.stepIds(), where);
      }
      return reference;
    }
    if (typeof reference !== 'function') {
      throw new PipelineValidationError(`${where}: expected a step id, a step class or a thunk () => StepClass, got ${describeValue(reference)}`);
    }
    const dependencyClass = isClassReference(reference, scope) ? reference : callThunk(reference, where);
    const id = scope.idOfClass(dependencyClass);
    if (id === undefined) {
      throw validationErrorWithHint(
        `Step '${stepId}' depends on unknown: '${unknownClassId(dependencyClass, (id) => scope.hasStep(id))}'`,
        ` (${where}): ${nameOfClass(dependencyClass)} is not among the pipeline's steps: add it to steps`,
      );
    }
    return id;
  });
}

function isClassReference(fn: Function, scope: DependsOnScope): boolean {
  return (
    scope.idOfClass(fn) !== undefined ||
    readStepMetadata(fn) !== undefined ||
    isStepClass(fn) ||
    /^class[\s{]/.test(Function.prototype.toString.call(fn))
  );
}

function callThunk(thunk: Function, where: string): Function {
  const source = Function.prototype.toString.call(thunk).replace(/\s+/g, ' ');
  const shown = source.length > 60 ? `${source.slice(0, 57)}...` : source;
  let value: unknown;
  try {
    value = (thunk as () => unknown)();
  } catch (error) {
    throw new PipelineValidationError(`${where}: the thunk ${shown} threw: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  if (value === undefined || value === null) {
    throw new PipelineValidationError(
      `${where}: the thunk ${shown} returned ${String(value)}, not a step class (is the class defined yet? a circular import?)`,
    );
  }
  if (typeof value !== 'function') {
    throw new PipelineValidationError(`${where}: the thunk ${shown} returned ${describeValue(value)}, not a step class`);
  }
  return value;
}
