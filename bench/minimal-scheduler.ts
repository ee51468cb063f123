/**
 * The reference the benchmark compares the engine with: a minimal dependency-driven Promise
 * scheduler, about the least code that runs a DAG correctly (each step starts when its own
 * dependencies are done). No config, events, retries, timeouts, usage or error handling.
 *
 * Like a `Pipeline`, it prepares the graph once (dependents, dependency counts) and each run
 * only copies the counts: per-run work is what the comparison is about.
 */
export type MinimalStep = (outputs: unknown[]) => unknown;

export function createMinimalScheduler(steps: MinimalStep[], dependencies: number[][]): () => Promise<unknown[]> {
  const size = steps.length;
  const dependents: number[][] = steps.map(() => []);
  dependencies.forEach((deps, index) => deps.forEach((dep) => dependents[dep].push(index)));
  const dependencyCounts = Int32Array.from(dependencies, (deps) => deps.length);
  const roots = steps.map((_, index) => index).filter((index) => dependencyCounts[index] === 0);
  return () =>
    new Promise((resolve, reject) => {
      const outputs = new Array<unknown>(size);
      const waitingOn = dependencyCounts.slice();
      let done = 0;
      const start = (index: number): void => {
        Promise.resolve(steps[index](outputs)).then((output) => {
          outputs[index] = output;
          if (++done === size) return resolve(outputs);
          for (const dependent of dependents[index]) if (--waitingOn[dependent] === 0) start(dependent);
        }, reject);
      };
      roots.forEach(start);
    });
}
