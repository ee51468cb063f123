/** Reads the output of one of the running step's dependencies, by index. */
export type ReadDependency = (dep: number) => unknown;

/**
 * What step `index` of a bench DAG does, written once and run by every scheduler under test.
 * A function declared with one parameter never reads its dependencies, and the adapters then
 * call it without building a reader (so no-op steps cost the same everywhere: nothing).
 */
export type BenchStep = (index: number, readDependency: ReadDependency) => unknown;

/** True when `fn` reads dependency outputs (declares the second parameter). */
export function readsDependencies(fn: BenchStep): boolean {
  return fn.length >= 2;
}

/** Resolves after `ms` milliseconds (`setTimeout`; Node fires it at ms granularity, never early). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
