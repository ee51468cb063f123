import { StepConfig } from '../config/step-config';
import { checkOptionKeys, optionKeysOf } from '../config/check-option-keys';
import type { ChatResponse } from '../agent/chat-response';
import type { RunnableAgent } from '../agent/runnable-agent';
import type { StepClass, StepOutput } from '../steps/base-step';
import { StepUsage } from '../usage/step-usage';
import type { Tracer } from '../tracing/tracer';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import { formatIdList } from '../graph/format-id-list';
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

/** Every key of {@link StepContextOptions}. */
const STEP_CONTEXT_OPTION_KEYS = optionKeysOf<StepContextOptions<unknown>>({
  stepId: true,
  inputs: true,
  deps: true,
  stepOutputs: true,
  tracer: true,
  config: true,
  signal: true,
});

/**
 * @internal The run a context belongs to: outputs are kept by step index there, and a step
 * sees only its transitive dependencies' (the run answers that).
 */
export interface StepRunView {
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly runBudget: RunBudget | undefined;
  /** A signal given from outside (hand-built contexts); the engine's contexts own theirs. */
  readonly externalSignal?: AbortSignal;
  stepIdAt(index: number): string;
  /** True when step `stepId` completed and is a transitive dependency of step `index`. */
  isVisibleTo(stepId: string, index: number): boolean;
  outputOf(stepId: string): unknown;
  /** Ids of the outputs step `index` can see, in declaration order. */
  visibleIds(index: number): string[];
  /**
   * A context of step `index` created its signal: the run must abort it on failure or
   * cancellation (at once, if the run already ended). Contexts whose signal nobody read need
   * no aborting, so the run tracks only these.
   */
  signalCreated?(index: number, ctx: StepContext<unknown>): void;
}

/**
 * What a step's `execute` receives: the run's input, deps and tracer, its dependencies'
 * outputs, its resolved config and signal, and `run` to call agents with budgets, timeouts,
 * retries and usage tracking.
 *
 * A context is a small view onto its run (7 fields): one is made per step attempt, on the
 * scheduler's hot path.
 */
export class StepContext<Deps = unknown> {
  /** The step's resolved config (a default `StepConfig` when none was given). */
  readonly config: StepConfig;
  /** @internal undefined until the first `ctx.run` dispatch. */
  accumulatedUsage: StepUsage | undefined;
  private readonly view: StepRunView;
  private readonly index: number;
  // The attempt's abort, created lazily: `new AbortController().signal` costs ~4 µs on
  // Node 20, more than the rest of the per-step path, and most steps never read `signal`.
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private aborted: boolean;

  /**
   * @param options the step's id, the run's input and deps, the outputs it may read, …
   * @param index @internal the engine's path: `options` is then the run (a `StepRunView`), and
   *   this is one attempt of step `index`, with the resolved `config` and the `usage` of earlier
   *   attempts. (Positional, not an object: the engine makes one context per step attempt.)
   */
  constructor(options: StepContextOptions<Deps>, index?: number, config?: StepConfig, usage?: StepUsage) {
    if (index === undefined) {
      checkOptionKeys('StepContext options', options, STEP_CONTEXT_OPTION_KEYS, (message) => new TypeError(message));
      this.config = options.config ?? new StepConfig();
      this.accumulatedUsage = undefined;
      this.view = new RecordRunView(options);
      this.index = 0;
    } else {
      this.config = config!;
      this.accumulatedUsage = usage;
      this.view = options as unknown as StepRunView;
      this.index = index;
    }
    this.controller = undefined;
    this.abortReason = undefined;
    this.aborted = false;
  }

  /** The id of the running step. */
  get stepId(): string {
    return this.view.stepIdAt(this.index);
  }

  /** The run's deps (the `deps` argument of `execute`). */
  get deps(): Deps {
    return this.view.deps as Deps;
  }

  /** The run's tracer; a `NoOpTracer` when none was given (never undefined). */
  get tracer(): Tracer {
    return this.view.tracer;
  }

  /** @internal The run-wide cost accumulator, for `runCostBudget`. */
  get runBudget(): RunBudget | undefined {
    return this.view.runBudget;
  }

  /** Usage accumulated over this step's `ctx.run` calls (failed attempts that reported usage included). */
  get usage(): StepUsage {
    // Not stored: reading the usage is not a `ctx.run` call, and the run's usage stays
    // undefined when no step made one (API.md §4).
    return this.accumulatedUsage ?? new StepUsage();
  }

  /** Aborted on timeout, run failure or cancellation. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const external = this.view.externalSignal;
      if (external !== undefined) return external;
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
      else this.view.signalCreated?.(this.index, this);
    }
    return this.controller.signal;
  }

  /** @internal True once this attempt was aborted (its deadline fired, or the run ended). */
  get isAttemptAborted(): boolean {
    return this.aborted;
  }

  /** @internal Aborts this attempt's signal (timeout, run failure, cancellation). */
  abortAttempt(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** The run's input under `key`; `defaultValue` only when the key is absent. */
  getInput<T = unknown>(key: string, defaultValue?: T): T {
    const inputs = this.view.inputs;
    return (Object.hasOwn(inputs, key) ? inputs[key] : defaultValue) as T;
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
    if (!this.view.isVisibleTo(id, this.index)) {
      throw new Error(
        `Step '${id}' not a dependency of '${this.stepId}' or hasn't completed. Available: ${formatIdList(this.view.visibleIds(this.index))}`,
      );
    }
    return this.view.outputOf(id);
  }

  /** Like {@link getDependency}, but `undefined` instead of an error. */
  getDependencyOrNone<C extends StepClass>(step: C): StepOutput<C> | undefined;
  getDependencyOrNone<T = unknown>(stepIdOrClass: string | StepClass, outputType?: abstract new (...args: any[]) => T): T | undefined;
  getDependencyOrNone(stepOrId: string | StepClass): unknown {
    const id = stepIdOf(stepOrId);
    return this.view.isVisibleTo(id, this.index) ? this.view.outputOf(id) : undefined;
  }

  /**
   * Calls an agent the pipeline way: passes `{ deps, tracer, signal }`, refuses the call when
   * the step's or run's budget is spent, bounds each attempt by `timeout`, retries failures
   * with exponential backoff, fires the agent's dispatch hooks, and adds the usage to `usage`.
   */
  run<O>(agent: RunnableAgent<O>, message: string, options: AgentCallOptions = {}): Promise<ChatResponse<O>> {
    return runAgentCall(this, agent, message, options);
  }
}

/** The view of a context built by hand (`new StepContext(options)`): every given output is visible. */
class RecordRunView implements StepRunView {
  readonly inputs: Record<string, unknown>;
  readonly deps: unknown;
  readonly tracer: Tracer;
  readonly runBudget: RunBudget | undefined = undefined;
  readonly externalSignal: AbortSignal | undefined;
  private readonly stepId: string;
  private readonly outputs: Record<string, unknown>;

  constructor(options: StepContextOptions<unknown>) {
    this.stepId = options.stepId;
    this.inputs = options.inputs ?? {};
    this.deps = options.deps;
    this.tracer = options.tracer ?? NOOP_TRACER;
    this.outputs = options.stepOutputs ?? {};
    this.externalSignal = options.signal;
  }

  stepIdAt(): string {
    return this.stepId;
  }

  isVisibleTo(stepId: string): boolean {
    return Object.hasOwn(this.outputs, stepId);
  }

  outputOf(stepId: string): unknown {
    return this.outputs[stepId];
  }

  visibleIds(): string[] {
    return Object.keys(this.outputs);
  }
}
