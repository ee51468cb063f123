import { Pipeline } from 'fastroai';
import type { BenchStep } from './bench-step';
import { collectGarbage } from './collect-garbage';
import { buildEngineOptions } from './engine-adapter';

/** Heap per step of a large no-op pipeline, in bytes (V8 `heapUsed`). */
export interface MemoryResult {
  steps: number;
  /** The pipeline's options: a `step(fn)` and a dependency list per step (what the user writes). */
  definitionBytesPerStep: number;
  /** The `Pipeline` built from them: graph, levels, resolved configs. */
  pipelineBytesPerStep: number;
  /** A finished run's result, kept (its lazy `stepOutputs` and `timings` not read). */
  resultBytesPerStep: number;
  /** The most the heap grew during the run, over the built pipeline: sampled every 1,000 steps, garbage included. */
  peakRunBytesPerStep: number;
  /** The run's wall time per step, in µs (one cold run). */
  runUsPerStep: number;
}

/**
 * Builds a pipeline of `dependencies.length` no-op steps and runs it once, reading V8's heap
 * after a full GC at each stage; everything measured is kept alive to the end, so each
 * number is what that stage added. During the run, every 1,000th step reads the heap as it is.
 */
export async function measureMemory(dependencies: number[][]): Promise<MemoryResult> {
  const steps = dependencies.length;
  const settledHeapBytes = () => {
    collectGarbage();
    return process.memoryUsage().heapUsed;
  };
  let peakBytes = 0;
  const sampleEvery1000: BenchStep = (index) => {
    if (index % 1000 === 999) peakBytes = Math.max(peakBytes, process.memoryUsage().heapUsed);
  };
  const baseBytes = settledHeapBytes();
  const options = buildEngineOptions(dependencies, sampleEvery1000);
  const definedBytes = settledHeapBytes();
  const pipeline = new Pipeline(options);
  const builtBytes = settledHeapBytes();
  peakBytes = builtBytes;
  const startMs = performance.now();
  const result = await pipeline.execute({});
  const runMs = performance.now() - startMs;
  const afterRunBytes = settledHeapBytes();
  keepAlive(options, pipeline, result);
  return {
    steps,
    definitionBytesPerStep: (definedBytes - baseBytes) / steps,
    pipelineBytesPerStep: (builtBytes - definedBytes) / steps,
    resultBytesPerStep: (afterRunBytes - builtBytes) / steps,
    peakRunBytesPerStep: (peakBytes - builtBytes) / steps,
    runUsPerStep: (runMs * 1000) / steps,
  };
}

/** Keeps its arguments reachable up to the call, so no stage is collected before the last reading. */
function keepAlive(...values: unknown[]): void {
  if (values.length === -1) console.log(values);
}
