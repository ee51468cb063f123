import type { ConversationState } from '../conversation/conversation-state';
import type { StepGraph } from '../graph/step-graph';
import { StepState } from '../scheduler/dependency-scheduler';
import { PipelineUsage } from '../usage/pipeline-usage';
import { LazyProperty, setLazySource } from './lazy-property';
import type { PipelineDefinition } from './pipeline-definition';
import type { PipelineResult } from './pipeline-result';
import { attachRunGraph } from './run-graph-of';
import type { RunStepTable } from './run-step-table';

/** What a run that ended knows: the facts its result is built from. */
export interface EndedRun {
  readonly runId: string;
  readonly definition: PipelineDefinition;
  readonly table: RunStepTable;
  /** Each step's state, by index. */
  readonly scheduler: { readonly state: Uint8Array };
  /** True when a step returned an INCOMPLETE conversation state. */
  readonly stoppedEarly: boolean;
  readonly conversationState: ConversationState<unknown> | undefined;
  /** The failures of steps under `onError: 'continue'`, by step id. */
  readonly errors: Record<string, Error>;
  /** The indices of steps skipped because a dependency failed, in the order they were skipped. */
  readonly skipped: number[];
  /** A recorded run's `timingOffsetMs` shifts this process's timings to the run's first start (a resume). */
  readonly durable: { readonly timingOffsetMs: number } | undefined;
}

/** What a result's lazy `stepOutputs` and `timings` are built from. */
interface ResultSource {
  readonly table: RunStepTable;
  readonly graph: StepGraph;
  readonly stepStates: Uint8Array;
  /** Shifts this process's timings to the run's first start (a resume). */
  readonly offsetMs: number;
}

const STEP_OUTPUTS = new LazyProperty('stepOutputs', (source: ResultSource) => source.table.collectStepOutputs(source.graph, source.stepStates));
const TIMINGS = new LazyProperty('timings', (source: ResultSource) => source.table.collectTimings(source.graph, source.stepStates, source.offsetMs));

/**
 * The result of a run that ended: its output (unless it stopped early or the output step did
 * not complete), usage, errors and skipped steps. `stepOutputs` and `timings` are built on first
 * read: most callers never read them, and a 10,000-step run would build both for nothing.
 */
export function buildPipelineResult(run: EndedRun): PipelineResult<unknown> {
  const { definition, table } = run;
  const graph = definition.graph;
  const outputIndex = graph.indexOf.get(definition.outputStep)!;
  const stepStates = run.scheduler.state;
  const completed = stepStates[outputIndex] === StepState.Completed;
  const usages = table.usages;
  const result = {
    runId: run.runId,
    output: run.stoppedEarly || !completed ? undefined : table.outputs[outputIndex],
    conversationState: run.conversationState,
    usage: usages === undefined ? undefined : PipelineUsage.fromStepUsages(usages),
    stoppedEarly: run.stoppedEarly,
    errors: run.errors,
    skipped: run.skipped.sort((a, b) => a - b).map((index) => graph.ids[index]),
  } as PipelineResult<unknown>;
  const source: ResultSource = { table, graph, stepStates, offsetMs: run.durable?.timingOffsetMs ?? 0 };
  STEP_OUTPUTS.defineOn(result);
  TIMINGS.defineOn(result);
  setLazySource(result, source);
  attachRunGraph(result, definition); // for toMermaidGantt's critical path (non-enumerable)
  return result;
}
