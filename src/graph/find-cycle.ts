/**
 * Finds one cycle among the steps Kahn's algorithm could not order (`remaining[i] > 0`),
 * iteratively. Returns it closed, following dependency edges: `[a, b, a]` means a depends on
 * b and b on a. Every such step depends on another such step, so walking dependency edges
 * inside that set must revisit a node.
 */
export function findCycle(dependencies: readonly (readonly number[])[], remaining: Int32Array): number[] {
  const start = remaining.findIndex((count) => count > 0);
  const positionInPath = new Map<number, number>();
  const path: number[] = [];
  let current = start;
  while (!positionInPath.has(current)) {
    positionInPath.set(current, path.length);
    path.push(current);
    current = dependencies[current].find((dep) => remaining[dep] > 0)!;
  }
  const cycle = path.slice(positionInPath.get(current));
  cycle.push(current);
  return cycle;
}
