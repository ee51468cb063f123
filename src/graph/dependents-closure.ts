import type { StepGraph } from './step-graph';

/** 1 for each of `seeds` and each of their transitive dependents (by step index), else 0. */
export function dependentsClosure(graph: StepGraph, seeds: Iterable<number>): Uint8Array {
  const closure = new Uint8Array(graph.ids.length);
  const stack = [...seeds];
  while (stack.length > 0) {
    const index = stack.pop()!;
    if (closure[index] === 1) continue;
    closure[index] = 1;
    for (const dependent of graph.dependents[index]) stack.push(dependent);
  }
  return closure;
}
