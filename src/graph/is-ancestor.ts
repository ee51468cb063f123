import type { StepGraph } from './step-graph';

/**
 * True when step `ancestor` is a transitive dependency of step `step`. Checks the direct
 * dependencies first (the common case), then searches upwards, pruned by level: only a step
 * of a higher level than `ancestor` can depend on it.
 */
export function isAncestor(graph: StepGraph, ancestor: number, step: number): boolean {
  const direct = graph.dependencies[step];
  if (direct.includes(ancestor)) return true;
  const targetLevel = graph.levelOf[ancestor];
  if (graph.levelOf[step] <= targetLevel + 1) return false;
  const visited = new Set<number>();
  const stack = [...direct];
  while (stack.length > 0) {
    const index = stack.pop()!;
    if (index === ancestor) return true;
    if (visited.has(index) || graph.levelOf[index] <= targetLevel) continue;
    visited.add(index);
    for (const dep of graph.dependencies[index]) stack.push(dep);
  }
  return false;
}

