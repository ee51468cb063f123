/**
 * What a DAG of steps with known durations must take: the critical path (the longest chain of
 * dependent durations, the best any scheduler can do with unbounded concurrency), and what a
 * level-by-level runner takes (each level waits for its slowest step: the Python original's
 * `asyncio.gather` per level, and LangGraph's supersteps when each level is one superstep).
 * Steps must be in topological order (every dependency has a lower index), as the generators give.
 */
export function criticalPathMs(dependencies: number[][], durationsMs: number[]): number {
  const finishMs = new Float64Array(dependencies.length);
  let longestMs = 0;
  for (let index = 0; index < dependencies.length; index++) {
    let readyMs = 0;
    for (const dep of dependencies[index]) readyMs = Math.max(readyMs, finishMs[dep]);
    finishMs[index] = readyMs + durationsMs[index];
    longestMs = Math.max(longestMs, finishMs[index]);
  }
  return longestMs;
}

/** The makespan of running the DAG level by level: the sum of each level's longest step. */
export function levelByLevelMs(dependencies: number[][], durationsMs: number[]): number {
  const levelOf = new Int32Array(dependencies.length);
  const slowestMs: number[] = [];
  for (let index = 0; index < dependencies.length; index++) {
    let level = 0;
    for (const dep of dependencies[index]) level = Math.max(level, levelOf[dep] + 1);
    levelOf[index] = level;
    slowestMs[level] = Math.max(slowestMs[level] ?? 0, durationsMs[index]);
  }
  return slowestMs.reduce((sum, ms) => sum + ms, 0);
}
