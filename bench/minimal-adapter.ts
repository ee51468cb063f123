import { readsDependencies, type BenchStep } from './bench-step';
import { createMinimalScheduler, type MinimalStep } from './minimal-scheduler';

/** The DAG for the reference {@link createMinimalScheduler}: returns a function that runs it once. */
export function buildMinimalRun(dependencies: number[][], stepFn: BenchStep): () => Promise<unknown[]> {
  const steps: MinimalStep[] = dependencies.map((_, index) =>
    readsDependencies(stepFn) ? (outputs) => stepFn(index, (dep) => outputs[dep]) : () => stepFn(index, unreachableReader),
  );
  return createMinimalScheduler(steps, dependencies);
}

function unreachableReader(): never {
  throw new Error('this bench step declared that it reads no dependencies');
}
