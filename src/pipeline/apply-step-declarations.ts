import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { isStepClass } from '../steps/base-step';
import { nameOfClass, readStepDeclaration, type StepDeclaration } from '../steps/read-step-declaration';
import { resolveDependsOn } from './resolve-depends-on';

/**
 * What `new Pipeline({ steps })` does with decorated steps in its record:
 *
 * - a `@Step` class must sit under its own id (`extract: ExtractStep`), so that
 *   `ctx.getDependency(ExtractStep)` and `@DependsOn(ExtractStep)` find it;
 * - the `@DependsOn` of a `@Step` class, or of an instance of one, are added to
 *   `dependencies[id]` (the union of both; declared ones go after given ones).
 *
 * Returns `dependencies` unchanged when no step declares any, and when it is malformed
 * (left for `buildStepGraph` to report).
 *
 * @throws PipelineValidationError naming the class (see {@link readStepDeclaration} and {@link resolveDependsOn})
 */
export function applyStepDeclarations(steps: Readonly<Record<string, unknown>>, dependencies: unknown): unknown {
  const declared: Array<{ id: string; stepClass: Function; declaration: StepDeclaration }> = [];
  const idOf = new Map<Function, string>();
  for (const id of Object.keys(steps)) {
    const value = steps[id];
    const stepClass = isStepClass(value) ? value : classOfInstance(value);
    if (stepClass === undefined) continue;
    const declaration = readStepDeclaration(stepClass);
    if (stepClass === value && !idOf.has(stepClass)) idOf.set(stepClass, id);
    if (declaration === undefined) continue;
    if (stepClass === value && declaration.id !== id) {
      throw new PipelineValidationError(
        `Step class ${nameOfClass(stepClass)} is under the key '${id}' but its step id is '${declaration.id}': ` +
          `use the key '${declaration.id}', or @Step({ id: '${id}' })`,
      );
    }
    if (!idOf.has(stepClass)) idOf.set(stepClass, id);  // an instance of a @Step class
    if (declaration.dependsOn.length > 0) declared.push({ id, stepClass, declaration });
  }
  if (declared.length === 0) return dependencies;
  if (dependencies !== undefined && (typeof dependencies !== 'object' || dependencies === null || Array.isArray(dependencies))) {
    return dependencies;
  }
  const given = (dependencies ?? {}) as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...given };
  const scope = { idOfClass: (candidate: Function) => idOf.get(candidate), hasStep: (id: string) => Object.hasOwn(steps, id), stepIds: () => Object.keys(steps) };
  for (const { id, stepClass, declaration } of declared) {
    const ids = resolveDependsOn(id, stepClass, declaration.dependsOn, scope);
    const own = Object.hasOwn(given, id) ? given[id] : undefined;
    if (own === undefined) merged[id] = [...new Set(ids)];
    else if (Array.isArray(own)) merged[id] = [...new Set([...own, ...ids])];
  }
  return merged;
}

/** The class of an instance step whose class carries decorator metadata; undefined otherwise. */
function classOfInstance(value: unknown): Function | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const constructor = (value as { constructor?: unknown }).constructor;
  return typeof constructor === 'function' && constructor !== Object ? constructor : undefined;
}
