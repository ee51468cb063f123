import { Pipeline, step, type BaseStep, type PipelineEvent, type PipelineOptions, type PipelineResult } from 'fastroai';
import { readsDependencies, type BenchStep } from './bench-step';

/** The step id of step `index` in every adapter: `s0`, `s1`, … */
export function benchStepId(index: number): string {
  return `s${index}`;
}

/**
 * The options of a fastroai {@link Pipeline} for the DAG: one `step(fn)` per step, ids `s0…`,
 * the last step as the output step (random DAGs may have several terminal steps).
 */
export function buildEngineOptions(dependencies: number[][], stepFn: BenchStep): PipelineOptions {
  const steps: Record<string, BaseStep> = {};
  const dependencyIds: Record<string, string[]> = {};
  for (let index = 0; index < dependencies.length; index++) {
    const id = benchStepId(index);
    steps[id] = readsDependencies(stepFn)
      ? step((ctx) => stepFn(index, (dep) => ctx.getDependency(benchStepId(dep))))
      : step(() => stepFn(index, unreachableReader));
    if (dependencies[index].length > 0) dependencyIds[id] = dependencies[index].map(benchStepId);
  }
  return { name: 'bench', steps, dependencies: dependencyIds, outputStep: benchStepId(dependencies.length - 1) };
}

/** The DAG as a fastroai {@link Pipeline} (see {@link buildEngineOptions}). */
export function buildEnginePipeline(dependencies: number[][], stepFn: BenchStep): Pipeline {
  return new Pipeline(buildEngineOptions(dependencies, stepFn));
}

/**
 * One run through `pipeline.execute` (no events). The result's `stepOutputs` record is built
 * lazily, on first read, and is not read here: {@link runEngineForOutputs} does.
 */
export function runEngineExecute(pipeline: Pipeline): Promise<PipelineResult> {
  return pipeline.execute({});
}

/** One run through `pipeline.execute`; resolves with every step's output by id. */
export async function runEngineForOutputs(pipeline: Pipeline): Promise<Record<string, unknown>> {
  return (await pipeline.execute({})).stepOutputs;
}

/** One run through `pipeline.run()`, with a subscriber that receives every event. */
export function runEngineStream(pipeline: Pipeline): Promise<number> {
  return new Promise((resolve, reject) => {
    let events = 0;
    pipeline.run({}).subscribe({
      next: (_event: PipelineEvent) => {
        events++;
      },
      error: reject,
      complete: () => resolve(events),
    });
  });
}

function unreachableReader(): never {
  throw new Error('this bench step declared that it reads no dependencies');
}
