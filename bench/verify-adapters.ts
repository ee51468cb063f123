import type { BenchStep } from './bench-step';
import { benchStepId, buildEnginePipeline, runEngineForOutputs } from './engine-adapter';
import { buildLangGraph } from './langgraph-adapter';
import { buildMinimalRun } from './minimal-adapter';

const MODULUS = 1_000_003;

/** The schedulers the bench compares. */
export type AdapterName = 'minimal scheduler' | 'fastroai execute' | 'LangGraph.js';

const ALL_ADAPTERS: readonly AdapterName[] = ['minimal scheduler', 'fastroai execute', 'LangGraph.js'];

/**
 * Checks, before a scheduler is timed, that the schedulers run the same DAG correctly:
 * each step's output is a checksum of its index and its dependencies' outputs, so a step that
 * ran before one of its dependencies finished, or saw the wrong output, gives a wrong number;
 * a step that ran twice shows in the call count. Throws on the first mismatch.
 *
 * @param schedulers which to check (all by default): LangGraph.js turns async hooks on for the
 *   rest of the process (its AsyncLocalStorage), so the bench checks it only after the rows
 *   measured without them
 */
export async function verifyAdapters(dependencies: number[][], schedulers: readonly AdapterName[] = ALL_ADAPTERS): Promise<void> {
  const expected: number[] = [];
  for (let index = 0; index < dependencies.length; index++) {
    expected.push(dependencies[index].reduce((sum, dep) => (sum + expected[dep]) % MODULUS, index));
  }
  let calls = 0;
  const checksum: BenchStep = (index, readDependency) => {
    calls++;
    return dependencies[index].reduce<number>((sum, dep) => (sum + (readDependency(dep) as number)) % MODULUS, index);
  };
  const runs: Array<[AdapterName, () => Promise<(index: number) => unknown>]> = [
    ['minimal scheduler', async () => {
      const outputs = await buildMinimalRun(dependencies, checksum)();
      return (index) => outputs[index];
    }],
    ['fastroai execute', async () => {
      const outputs = await runEngineForOutputs(buildEnginePipeline(dependencies, checksum));
      return (index) => outputs[benchStepId(index)];
    }],
    ['LangGraph.js', async () => {
      const outputs = await buildLangGraph(dependencies, checksum).invoke();
      return (index) => outputs[benchStepId(index)];
    }],
  ];
  for (const [name, run] of runs) {
    if (!schedulers.includes(name)) continue;
    calls = 0;
    const outputOf = await run();
    if (calls !== dependencies.length) throw new Error(`${name}: ${calls} step calls for ${dependencies.length} steps`);
    for (let index = 0; index < dependencies.length; index++) {
      if (outputOf(index) !== expected[index]) {
        throw new Error(`${name}: step ${index} output ${String(outputOf(index))}, expected ${expected[index]}`);
      }
    }
  }
}
