import type { StepGraph } from './step-graph';

/**
 * The indexes of step `index`'s transitive dependencies (the steps whose outputs it may read),
 * each once, in the order a depth-first walk from its direct dependencies meets them. O(ancestors),
 * not O(steps): a wide fan-out has thousands of steps without dependencies.
 */
export function ancestorsOf(graph: StepGraph, index: number): number[] {
  const direct = graph.dependencies[index];
  if (direct.length === 0) return [];
  const seen = new Set<number>();
  const stack = [...direct];
  while (stack.length > 0) {
    const dependency = stack.pop()!;
    if (seen.has(dependency)) continue;
    seen.add(dependency);
    stack.push(...graph.dependencies[dependency]);
  }
  return [...seen];
}
