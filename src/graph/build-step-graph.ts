import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { describeValue } from '../config/step-config';
import type { StepGraph } from './step-graph';
import { findCycle } from './find-cycle';
import { unknownIdError } from './unknown-id-hint';

/**
 * Validates `dependencies` against the step ids and builds the {@link StepGraph}:
 * indices, dependents, levels (Kahn's algorithm, iterative, so a 100,000-step chain is fine).
 *
 * @throws PipelineValidationError for an unknown step or dependency, a malformed entry, or a cycle (named)
 */
export function buildStepGraph(ids: readonly string[], dependencies: Readonly<Record<string, unknown>> = {}): StepGraph {
  if (ids.length === 0) throw new PipelineValidationError('Pipeline has no steps');
  const indexOf = new Map<string, number>();
  ids.forEach((id, index) => indexOf.set(id, index));
  // A run reports by step id in plain records (`stepOutputs`, `errors`, `timings`), where
  // writing the key `__proto__` would replace the record's prototype and lose the entry.
  if (indexOf.has('__proto__')) throw new PipelineValidationError(`Step id '__proto__' is not allowed`);

  if (typeof dependencies !== 'object' || dependencies === null || Array.isArray(dependencies)) {
    throw new PipelineValidationError(
      `dependencies must be an object mapping step ids to arrays of step ids, got ${describeValue(dependencies)}`,
    );
  }
  const dependencyIndices: number[][] = ids.map(() => []);
  for (const [stepId, deps] of Object.entries(dependencies)) {
    const index = indexOf.get(stepId);
    if (index === undefined) throw unknownIdError(`Dependency for unknown step: '${stepId}'`, stepId, ids);
    if (!Array.isArray(deps)) {
      throw new PipelineValidationError(`Dependencies of step '${stepId}' must be an array of step ids, got ${describeValue(deps)}`);
    }
    const seen = new Set<number>();
    for (const dep of deps) {
      if (typeof dep !== 'string') {
        throw new PipelineValidationError(`Dependencies of step '${stepId}' must be step ids (strings), got ${describeValue(dep)}`);
      }
      const depIndex = indexOf.get(dep);
      if (depIndex === undefined) {
        throw unknownIdError(`Step '${stepId}' depends on unknown: '${dep}'`, dep, ids);
      }
      if (!seen.has(depIndex)) {
        seen.add(depIndex);
        dependencyIndices[index].push(depIndex);
      }
    }
  }

  const dependents: number[][] = ids.map(() => []);
  for (let index = 0; index < ids.length; index++) {
    for (const dep of dependencyIndices[index]) dependents[dep].push(index);
  }

  const levelOf = new Int32Array(ids.length);
  const remaining = Int32Array.from(dependencyIndices, (deps) => deps.length);
  const queue: number[] = [];
  for (let index = 0; index < ids.length; index++) if (remaining[index] === 0) queue.push(index);
  for (let head = 0; head < queue.length; head++) {
    const index = queue[head];
    for (const dependent of dependents[index]) {
      if (levelOf[dependent] < levelOf[index] + 1) levelOf[dependent] = levelOf[index] + 1;
      if (--remaining[dependent] === 0) queue.push(dependent);
    }
  }
  if (queue.length < ids.length) {
    const cycle = findCycle(dependencyIndices, remaining).map((index) => ids[index]);
    throw new PipelineValidationError(`Dependency graph has a cycle: ${cycle.join(' -> ')}`);
  }

  const levels: string[][] = [];
  for (let index = 0; index < ids.length; index++) {
    const level = levelOf[index];
    while (levels.length <= level) levels.push([]);
    levels[level].push(ids[index]);
  }
  // Frozen: runs hand them out in `level.completed` events without copying.
  for (const level of levels) Object.freeze(level);
  Object.freeze(levels);
  const dependencyCount = Int32Array.from(dependencyIndices, (deps) => deps.length);
  const levelSize = Int32Array.from(levels, (level) => level.length);
  const dependentStart = new Int32Array(ids.length + 1);
  for (let index = 0; index < ids.length; index++) dependentStart[index + 1] = dependentStart[index] + dependents[index].length;
  const dependentList = Int32Array.from(dependents.flat());
  const roots = Int32Array.from(dependencyIndices.flatMap((deps, index) => (deps.length === 0 ? [index] : [])));
  return { ids, indexOf, dependencies: dependencyIndices, dependents, dependentStart, dependentList, roots, levelOf, levels, dependencyCount, levelSize };
}

