/**
 * The reference the benchmark compares the engine with: a minimal dependency-driven Promise
 * scheduler, about the least code that runs a DAG correctly (each step starts when its own
 * dependencies are done). No config, events, retries, timeouts, usage or error handling.
 */
export type MinimalStep = (outputs: unknown[]) => unknown;

export function runMinimal(steps: MinimalStep[], dependencies: number[][]): Promise<unknown[]> {
  const size = steps.length;
  const outputs = new Array<unknown>(size);
  const waitingOn = dependencies.map((deps) => deps.length);
  const dependents: number[][] = steps.map(() => []);
  dependencies.forEach((deps, index) => deps.forEach((dep) => dependents[dep].push(index)));
  return new Promise((resolve, reject) => {
    let done = 0;
    const start = (index: number): void => {
      Promise.resolve(steps[index](outputs)).then((output) => {
        outputs[index] = output;
        if (++done === size) return resolve(outputs);
        for (const dependent of dependents[index]) if (--waitingOn[dependent] === 0) start(dependent);
      }, reject);
    };
    waitingOn.forEach((count, index) => count === 0 && start(index));
  });
}
