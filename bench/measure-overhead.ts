import type { BenchStep } from './bench-step';
import { collectGarbage } from './collect-garbage';
import { buildEnginePipeline, runEngineExecute, runEngineStream } from './engine-adapter';
import { buildLangGraph } from './langgraph-adapter';
import { buildMinimalRun } from './minimal-adapter';
import { median } from './sample-stats';

/** A no-op DAG to time, and how many times. */
export interface OverheadCase {
  name: string;
  dependencies: number[][];
  /** Untimed runs of each scheduler first (JIT, inline caches, heap growth). */
  warmupRuns: number;
  /** Timed samples of each scheduler; the result is their median. */
  samples: number;
  /** Back-to-back runs per sample, so that a sample is long enough to time. */
  runsPerSample: number;
  /** What each step does. @default noOpStep (synchronous) */
  stepFn?: BenchStep;
  /** How the row names the steps. @default 'no-op' */
  stepLabel?: string;
}

/** Per-step time in µs (run time ÷ steps), median of the timed samples. */
export interface PerStepTime {
  medianUs: number;
}

export interface OverheadResult {
  name: string;
  stepLabel: string;
  steps: number;
  minimal: PerStepTime;
  execute: PerStepTime;
  stream: PerStepTime;
  /** Median over rounds of (engine `execute` ÷ minimal), wall time, both measured in the same round. */
  executeRatio: number;
  /** Median over rounds of (engine `run()` ÷ minimal), wall time, both measured in the same round. */
  streamRatio: number;
  /** As `executeRatio`, in process CPU time: blind to time spent waiting for a core, not to GC threads. */
  executeCpuRatio: number;
  /** As `streamRatio`, in process CPU time. */
  streamCpuRatio: number;
}

/** A step that does nothing: what is left is the scheduler's own cost per step. */
export const noOpStep: BenchStep = () => undefined;

/**
 * An async step that does nothing: every scheduler must wait for its promise. The engine ends a
 * synchronous step without a promise, the minimal scheduler always awaits one; this variant
 * compares the two where both pay for a promise.
 */
export const asyncNoOpStep: BenchStep = async () => undefined;

/**
 * Times no-op runs of the engine (`execute`, and `run()` with a subscriber) and of the minimal
 * reference scheduler on the same DAG, in rounds: each round takes one sample of all three, in
 * an order that rotates from round to round, so drift in the machine's state (other processes,
 * CPU clock, heap size) hits them alike. A sample is `runsPerSample` back-to-back runs; ratios
 * are taken within a round and their median reported. Building the pipeline is not timed.
 *
 * One full GC before the case, none between samples: each contender pays the scavenges its own
 * allocations cause, as in steady use. (A full GC before each sample looks cleaner but is not:
 * on two cores its aftermath, concurrent sweeping and new-space regrowth, runs during the next
 * sample and more than doubles the minimal scheduler's time.)
 */
export async function measureOverhead(testCase: OverheadCase): Promise<OverheadResult> {
  const { dependencies } = testCase;
  const steps = dependencies.length;
  const stepFn = testCase.stepFn ?? noOpStep;
  const pipeline = buildEnginePipeline(dependencies, stepFn);
  const runMinimal = buildMinimalRun(dependencies, stepFn);
  const contenders: Array<() => Promise<unknown>> = [runMinimal, () => runEngineExecute(pipeline), () => runEngineStream(pipeline)];
  collectGarbage();
  for (let run = 0; run < testCase.warmupRuns; run++) for (const contender of contenders) await contender();
  const wallMs: number[][] = contenders.map(() => []);
  const cpuMs: number[][] = contenders.map(() => []);
  for (let round = 0; round < testCase.samples; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const which = (round + k) % contenders.length;
      const sample = await timeRuns(contenders[which], testCase.runsPerSample);
      wallMs[which].push(sample.wallMs);
      cpuMs[which].push(sample.cpuMs);
    }
  }
  const ratio = (samples: number[][], which: number) => median(samples[which].map((ms, round) => ms / samples[0][round]));
  return {
    name: testCase.name,
    stepLabel: testCase.stepLabel ?? 'no-op',
    steps,
    minimal: perStep(wallMs[0], steps),
    execute: perStep(wallMs[1], steps),
    stream: perStep(wallMs[2], steps),
    executeRatio: ratio(wallMs, 1),
    streamRatio: ratio(wallMs, 2),
    executeCpuRatio: ratio(cpuMs, 1),
    streamCpuRatio: ratio(cpuMs, 2),
  };
}

/** LangGraph.js on a no-op DAG: per-step time, or why it was not measured. */
export type LangGraphOverhead =
  | { measured: true; steps: number; perStep: PerStepTime; compileMs: number }
  | { measured: false; steps: number; reason: string };

/**
 * Times no-op runs of the DAG as a LangGraph.js graph (compiling it is not timed, but
 * reported). A run still going after `limitMs` is stopped, and the case reported as not measured.
 */
export async function measureLangGraphOverhead(
  dependencies: number[][],
  options: { warmupRuns: number; timedRuns: number; limitMs: number },
): Promise<LangGraphOverhead> {
  const steps = dependencies.length;
  const compileStartMs = performance.now();
  const graph = buildLangGraph(dependencies, noOpStep);
  const compileMs = performance.now() - compileStartMs;
  const samplesMs: number[] = [];
  collectGarbage();
  for (let run = 0; run < options.warmupRuns + options.timedRuns; run++) {
    let tookMs: number;
    try {
      tookMs = (await timeRuns(() => graph.invoke({ timeLimitMs: options.limitMs }), 1)).wallMs;
    } catch (error) {
      return { measured: false, steps, reason: `stopped after ${options.limitMs / 1000} s (${error instanceof Error ? error.message : String(error)})` };
    }
    if (run >= options.warmupRuns) samplesMs.push(tookMs);
  }
  return { measured: true, steps, perStep: perStep(samplesMs, steps), compileMs };
}

/** The mean wall and process CPU time of one of `runs` back-to-back runs. */
async function timeRuns(run: () => Promise<unknown>, runs: number): Promise<{ wallMs: number; cpuMs: number }> {
  const startCpu = process.cpuUsage();
  const startMs = performance.now();
  for (let k = 0; k < runs; k++) await run();
  const wallMs = performance.now() - startMs;
  const cpu = process.cpuUsage(startCpu);
  return { wallMs: wallMs / runs, cpuMs: (cpu.user + cpu.system) / 1000 / runs };
}

function perStep(samplesMs: number[], steps: number): PerStepTime {
  return { medianUs: (median(samplesMs) * 1000) / steps };
}
