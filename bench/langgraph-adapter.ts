import { Annotation, END, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { readsDependencies, type BenchStep } from './bench-step';
import { benchStepId } from './engine-adapter';

/**
 * The state of a bench graph: one record of step outputs by step id. Each node returns
 * `{ outputs: { [id]: output } }` and the reducer merges it in place (`Object.assign`), the
 * cheapest merge there is, so the bench measures LangGraph rather than a copy per update.
 */
const BenchState = Annotation.Root({
  outputs: Annotation<Record<string, unknown>>({
    reducer: (merged, update) => Object.assign(merged, update),
    default: () => ({}),
  }),
});

type BenchStateValue = { outputs: Record<string, unknown> };

/** The builder surface the adapter uses; node names are only known at run time, so typed loosely. */
interface DynamicStateGraph {
  addNode(id: string, fn: (state: BenchStateValue) => Promise<Partial<BenchStateValue>>): void;
  addEdge(from: string | string[], to: string): void;
  compile(options?: { checkpointer?: BaseCheckpointSaver }): {
    invoke(
      input: Partial<BenchStateValue>,
      config: { recursionLimit: number; signal?: AbortSignal; configurable?: { thread_id: string } },
    ): Promise<BenchStateValue>;
  };
}

/** A compiled LangGraph of a bench DAG. */
export interface LangGraphRun {
  /**
   * Runs the graph once; resolves with the outputs by step id. With `timeLimitMs`, a run
   * still going after that long rejects (LangGraph stops starting nodes once its signal aborts).
   * With a checkpointer, `threadId` names the thread its checkpoints are saved under.
   */
  invoke(options?: { timeLimitMs?: number; threadId?: string }): Promise<Record<string, unknown>>;
}

/**
 * The DAG as a LangGraph.js `StateGraph`: a node per step (ids `s0…`, as the engine's),
 * `START → s` for steps without dependencies, `d → s` for a single dependency, and one join
 * edge `addEdge([d1, d2, …], s)` when a step has several. A join edge is a barrier channel:
 * `s` runs once, in the superstep after the last of its dependencies finished, even when they
 * finish in different supersteps. (One `addEdge(d, s)` per dependency would instead trigger
 * `s` in the superstep after each of them: too early, and more than once.)
 *
 * `recursionLimit` (LangGraph's cap on supersteps, 25 by default) is raised to the step count:
 * a chain of n steps takes n supersteps.
 *
 * The time limit is checked by the nodes themselves, not by a timer: when no node awaits
 * anything, a LangGraph run is one long chain of microtasks, during which no timer fires
 * (`AbortSignal.timeout` would abort only after the run ended).
 *
 * With `options.checkpointer`, the graph is compiled with it: LangGraph then saves a checkpoint
 * of the whole state after every superstep, under the thread `invoke` names.
 */
export function buildLangGraph(dependencies: number[][], stepFn: BenchStep, options: { checkpointer?: BaseCheckpointSaver } = {}): LangGraphRun {
  const size = dependencies.length;
  const graph = new StateGraph(BenchState) as unknown as DynamicStateGraph;
  let deadlineMs = Infinity;
  let controller: AbortController | undefined;
  const hasDependents = new Uint8Array(size);
  for (let index = 0; index < size; index++) {
    const id = benchStepId(index);
    const reads = readsDependencies(stepFn);
    graph.addNode(id, async (state) => {
      if (controller !== undefined && performance.now() > deadlineMs) controller.abort(new Error('time limit reached'));
      const outputs = state.outputs;
      const output = await (reads
        ? stepFn(index, (dep) => outputs[benchStepId(dep)])
        : stepFn(index, unreachableReader));
      return { outputs: { [id]: output } };
    });
  }
  for (let index = 0; index < size; index++) {
    const deps = dependencies[index];
    const id = benchStepId(index);
    if (deps.length === 0) graph.addEdge(START, id);
    else if (deps.length === 1) graph.addEdge(benchStepId(deps[0]), id);
    else graph.addEdge(deps.map(benchStepId), id);
    for (const dep of deps) hasDependents[dep] = 1;
  }
  for (let index = 0; index < size; index++) if (hasDependents[index] === 0) graph.addEdge(benchStepId(index), END);
  const compiled = graph.compile({ checkpointer: options.checkpointer });
  const recursionLimit = size + 10;
  return {
    invoke: async ({ timeLimitMs, threadId } = {}) => {
      controller = timeLimitMs === undefined ? undefined : new AbortController();
      deadlineMs = timeLimitMs === undefined ? Infinity : performance.now() + timeLimitMs;
      try {
        const configurable = threadId === undefined ? undefined : { thread_id: threadId };
        return (await compiled.invoke({}, { recursionLimit, signal: controller?.signal, configurable })).outputs;
      } finally {
        controller = undefined;
      }
    },
  };
}

function unreachableReader(): never {
  throw new Error('this bench step declared that it reads no dependencies');
}
