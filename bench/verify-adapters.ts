import type { BenchStep } from './bench-step';
import { benchStepId, buildEnginePipeline, runEngineForOutputs } from './engine-adapter';
import { buildLangGraph } from './langgraph-adapter';
import { buildMinimalRun } from './minimal-adapter';

const MODULUS = 1_000_003;

/**
 * Checks, before anything is timed, that the three schedulers run the same DAG correctly:
 * each step's output is a checksum of its index and its dependencies' outputs, so a step that
 * ran before one of its dependencies finished, or saw the wrong output, gives a wrong number;
 * a step that ran twice shows in the call count. Throws on the first mismatch.
 */
export async function verifyAdapters(dependencies: number[][]): Promise<void> {
  const expected: number[] = [];
  for (let index = 0; index < dependencies.length; index++) {
    expected.push(dependencies[index].reduce((sum, dep) => (sum + expected[dep]) % MODULUS, index));
  }
  let calls = 0;
  const checksum: BenchStep = (index, readDependency) => {
    calls++;
    return dependencies[index].reduce<number>((sum, dep) => (sum + (readDependency(dep) as number)) % MODULUS, index);
  };
  const runs: Array<[string, () => Promise<(index: number) => unknown>]> = [
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
