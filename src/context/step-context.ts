import { StepConfig } from '../config/step-config';
import type { ChatResponse } from '../agent/chat-response';
import type { RunnableAgent } from '../agent/runnable-agent';
import type { StepClass, StepOutput } from '../steps/base-step';
import { StepUsage } from '../usage/step-usage';
import type { Tracer } from '../tracing/tracer';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import { formatIdList } from '../graph/format-id-list';
import { isAncestor } from '../graph/is-ancestor';
import type { StepGraph } from '../graph/step-graph';
import { LazyAbort } from './lazy-abort';
import type { RunBudget } from './run-budget';
import { runAgentCall, type AgentCallOptions } from './run-agent-call';
import { stepIdOf } from './step-id-of';

/** Options of a {@link StepContext}. The engine builds contexts; tests may build their own. */
export interface StepContextOptions<Deps> {
  stepId: string;
  inputs: Record<string, unknown>;
  deps: Deps;
  /** Outputs the step may read with `getDependency`. */
  stepOutputs: Record<string, unknown>;
  tracer?: Tracer;
  config?: StepConfig;
  signal?: AbortSignal;
}

/** @internal What the engine adds to a context: visibility, the run's budget, the attempt's abort. */
export interface StepContextInternals {
  /** With `index`: the step sees only its transitive dependencies' outputs. */
  graph?: StepGraph;
  index?: number;
  runBudget?: RunBudget;
  abort?: LazyAbort;
  usage?: StepUsage;
}

/**
 * What a step's `execute` receives: the run's input, deps and tracer, its dependencies'
 * outputs, its resolved config and signal, and `run` to call agents with budgets, timeouts,
 * retries and usage tracking.
 */
export class StepContext<Deps = unknown> {
  readonly stepId: string;
  readonly deps: Deps;
  readonly tracer: Tracer;
  readonly config: StepConfig;
  private readonly inputs: Record<string, unknown>;
  private readonly outputs: Record<string, unknown>;
  private readonly internals: StepContextInternals;
  private readonly abort: LazyAbort | undefined;
  private readonly givenSignal: AbortSignal | undefined;
  /** @internal undefined until the first `ctx.run` dispatch. */
  accumulatedUsage: StepUsage | undefined;

  constructor(options: StepContextOptions<Deps>, internals: StepContextInternals = {}) {
    this.stepId = options.stepId;
    this.inputs = options.inputs;
    this.deps = options.deps;
    this.outputs = options.stepOutputs;
    this.tracer = options.tracer ?? NOOP_TRACER;
    this.config = options.config ?? new StepConfig();
    this.givenSignal = options.signal;
    this.internals = internals;
    this.abort = internals.abort;
    this.accumulatedUsage = internals.usage;
  }

  /** Usage accumulated over this step's `ctx.run` calls (failed attempts that reported usage included). */
  get usage(): StepUsage {
    return this.accumulatedUsage ?? (this.accumulatedUsage = new StepUsage());
  }

  /** Aborted on timeout, run failure or cancellation. */
  get signal(): AbortSignal {
    if (this.abort !== undefined) return this.abort.signal;
    return this.givenSignal ?? NEVER_ABORTED;
  }

  /** The run's input under `key`; `defaultValue` only when the key is absent. */
  getInput<T = unknown>(key: string, defaultValue?: T): T {
    return (Object.hasOwn(this.inputs, key) ? this.inputs[key] : defaultValue) as T;
  }

  /**
   * The output of a (transitive) dependency, by step class (typed) or id.
   *
   * @throws Error `Step 'x' not a dependency of 'y' or hasn't completed. Available: [...]`
   */
  getDependency<C extends StepClass>(step: C): StepOutput<C>;
  getDependency<T = unknown>(stepId: string, outputType?: abstract new (...args: any[]) => T): T;
  getDependency(stepOrId: string | StepClass): unknown {
    const id = stepIdOf(stepOrId);
    if (!this.canSee(id)) {
      const available = Object.keys(this.outputs).filter((outputId) => this.canSee(outputId));
      throw new Error(`Step '${id}' not a dependency of '${this.stepId}' or hasn't completed. Available: ${formatIdList(available)}`);
    }
    return this.outputs[id];
  }

  /** Like {@link getDependency}, but `undefined` instead of an error. */
  getDependencyOrNone<C extends StepClass>(step: C): StepOutput<C> | undefined;
  getDependencyOrNone<T = unknown>(stepId: string, outputType?: abstract new (...args: any[]) => T): T | undefined;
  getDependencyOrNone(stepOrId: string | StepClass): unknown {
    const id = stepIdOf(stepOrId);
    return this.canSee(id) ? this.outputs[id] : undefined;
  }

  /**
   * Calls an agent the pipeline way: passes `{ deps, tracer, signal }`, refuses the call when
   * the step's or run's budget is spent, bounds each attempt by `timeout`, retries failures
   * with exponential backoff, fires the agent's dispatch hooks, and adds the usage to `usage`.
   */
  run<O>(agent: RunnableAgent<O>, message: string, options: AgentCallOptions = {}): Promise<ChatResponse<O>> {
    return runAgentCall(this, this.internals.runBudget, agent, message, options);
  }

  private canSee(id: string): boolean {
    if (!Object.hasOwn(this.outputs, id)) return false;
    const { graph, index } = this.internals;
    if (graph === undefined || index === undefined) return true;
    const other = graph.indexOf.get(id);
    return other !== undefined && isAncestor(graph, other, index);
  }
}

const NEVER_ABORTED: AbortSignal = new AbortController().signal;
