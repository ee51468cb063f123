import { sleep, type BenchStep } from './bench-step';
import { buildEnginePipeline, runEngineExecute } from './engine-adapter';
import { buildLangGraph } from './langgraph-adapter';
import { criticalPathMs, levelByLevelMs } from './makespan-bounds';
import { buildMinimalRun } from './minimal-adapter';
import type { SleepingDag } from './random-dag';
import { median } from './sample-stats';

/** A scheduler's makespans on one DAG, as multiples of a critical path (medians over runs). */
export interface MakespanRatios {
  /** Over the critical path computed from the graph and the nominal sleeps. */
  nominal: number;
  /** Over the critical path of the sleeps as they ran (each step's own start to end): timer lateness removed. */
  measured: number;
}

export interface MakespanResult {
  name: string;
  steps: number;
  criticalPathMs: number;
  /** What a level-by-level runner must take, over the critical path (computed, not run). */
  levelByLevelRatio: number;
  engine: MakespanRatios;
  minimal: MakespanRatios;
  langGraph: MakespanRatios;
}

/**
 * Runs a DAG whose steps sleep through the engine (`execute`), the minimal scheduler and
 * LangGraph.js, once each untimed (warm-up), then `runs` times each, interleaved, and divides
 * each makespan by the critical path. Against the nominal sleeps, even a perfect scheduler is
 * above 1: `setTimeout` fires a little late, never early (the minimal scheduler shows that
 * floor). Each step also records when its sleep really started and ended; the critical path of
 * those durations leaves only what the scheduler added: the wait between a step's last
 * dependency ending and the step starting, along the longest chain.
 */
export async function measureMakespan(dag: SleepingDag, runs: number): Promise<MakespanResult> {
  const { dependencies, sleepsMs } = dag;
  const size = dependencies.length;
  const startedMs = new Float64Array(size);
  const endedMs = new Float64Array(size);
  const sleepStep: BenchStep = (index) => {
    startedMs[index] = performance.now();
    return sleep(sleepsMs[index]).then(() => {
      endedMs[index] = performance.now();
    });
  };
  const pipeline = buildEnginePipeline(dependencies, sleepStep);
  const runMinimal = buildMinimalRun(dependencies, sleepStep);
  const graph = buildLangGraph(dependencies, sleepStep);
  const contenders: Array<() => Promise<unknown>> = [() => runEngineExecute(pipeline), runMinimal, () => graph.invoke()];
  for (const contender of contenders) await contender();
  const pathMs = criticalPathMs(dependencies, sleepsMs);
  const nominal: number[][] = contenders.map(() => []);
  const measured: number[][] = contenders.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const which = (round + k) % contenders.length;
      const startMs = performance.now();
      await contenders[which]();
      const makespanMs = performance.now() - startMs;
      const durationsMs = Array.from(startedMs, (start, index) => endedMs[index] - start);
      nominal[which].push(makespanMs / pathMs);
      measured[which].push(makespanMs / criticalPathMs(dependencies, durationsMs));
    }
  }
  const ratios = (which: number): MakespanRatios => ({ nominal: median(nominal[which]), measured: median(measured[which]) });
  return {
    name: dag.name,
    steps: size,
    criticalPathMs: pathMs,
    levelByLevelRatio: levelByLevelMs(dependencies, sleepsMs) / pathMs,
    engine: ratios(0),
    minimal: ratios(1),
    langGraph: ratios(2),
  };
}
