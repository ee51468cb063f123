import type { StepGraph } from '../graph/step-graph';
import type { PipelineResult } from './pipeline-result';

/**
 * Where a result keeps the DAG it ran: a symbol-keyed, non-enumerable property, so it does
 * not show in `Object.keys`, spreading, `toEqual` or `JSON.stringify` (a result stays plain
 * data) but `toMermaidGantt(result)` can follow dependency edges to find the critical path.
 */
const RUN_GRAPH: unique symbol = Symbol.for('fastroai.result.graph');

/** What `toMermaidGantt` needs from the run's pipeline. */
export interface RunGraph {
  /** The pipeline's name. */
  readonly name: string;
  readonly graph: StepGraph;
}

/** Attaches the run's graph to its result (non-enumerable; see {@link RUN_GRAPH}). */
export function attachRunGraph(result: object, runGraph: RunGraph): void {
  Object.defineProperty(result, RUN_GRAPH, { value: runGraph, enumerable: false, configurable: true, writable: false });
}

/** The graph a result's run used; undefined for a result that did not come from a run (built by hand, or parsed from JSON). */
export function runGraphOf(result: PipelineResult<unknown>): RunGraph | undefined {
  return (result as unknown as { [RUN_GRAPH]?: RunGraph })[RUN_GRAPH];
}
