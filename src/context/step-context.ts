import { StepConfig } from '../config/step-config';
import { CancelScope } from '../executor/cancel-scope';
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
import { settledWithin } from '../clock/settled-within';
import { FastroAIError } from '../errors/fastroai-error';
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
   * The run's cancel scope: each attempt's scope is its child, so the run's failure or
   * cancellation aborts every attempt (and clears its timers) without tracking contexts.
   */
  readonly cancelScope: CancelScope;
  /**
   * A `ctx.run` call of step `index` failed at call attempt `attempt` (1-based) and is retried
   * after `delaySeconds`: the run emits `call.retrying`.
   */
  callRetrying?(index: number, attempt: number, error: unknown, delaySeconds: number): void;
  /**
   * What step `index` was billed so far changed (a `ctx.run` call went out or ended): a run
   * that ends while the step still runs counts it (`runUsage` on its error).
   */
  usageChanged?(index: number, usage: StepUsage): void;
  /** A `ctx.run` call started; `settled` resolves once it settled (the run waits for it, bounded, before it ends with an error). */
  callStarted?(settled: Promise<void>): void;
}

/** A `ctx.run` call of an attempt: its scope, and when it settled (never rejects). */
interface RunningCall {
  readonly scope: CancelScope;
  settled: Promise<void>;
}

const NOTHING = (): void => undefined;

/**
 * How long the end of a step attempt, or of a run that ends with an error, waits for the
 * `ctx.run` calls it aborted to settle, so that what they were billed counts. An agent told by
 * its signal settles at once (the AI SDK rejects the request); one that ignores it is waited
 * for this long (after its own grace, `AGENT_SETTLE_GRACE_MS` in run-agent-call.ts), then left behind.
 */
export const ABANDONED_CALLS_WAIT_MS = 1_000;

/** Resolves once every call of `settled` settled, or after {@link ABANDONED_CALLS_WAIT_MS} (real time). */
export function waitForCalls(settled: Iterable<Promise<void>>): Promise<void> {
  return settledWithin(Promise.all(settled), ABANDONED_CALLS_WAIT_MS).then(NOTHING);
}

/**
 * What a step's `execute` receives: the run's input, deps and tracer, its dependencies'
 * outputs, its resolved config and signal, and `run` to call agents with budgets, timeouts,
 * retries and usage tracking.
 *
 * A context is a small view onto its run (8 fields): one is made per step attempt, on the
 * scheduler's hot path.
 */
export class StepContext<Deps = unknown> {
  /** The step's resolved config (a default `StepConfig` when none was given). */
  readonly config: StepConfig;
  /** @internal undefined until the first `ctx.run` dispatch. */
  accumulatedUsage: StepUsage | undefined;
  private readonly view: StepRunView;
  private readonly index: number;
  // The attempt's cancel scope: given when the step has a timeout, else made on first need
  // (reading `signal`, a `ctx.run` call). Most steps never need one; its AbortController is made
  // only when `signal` is read (`new AbortController()` costs ~4 µs on Node 20).
  private scope: CancelScope | undefined;
  /** This attempt's `ctx.run` calls still running; made on the first call. */
  private calls: Set<RunningCall> | undefined;

  // Two overloads: the engine's comes first and is left out of the published types
  // (stripInternal); the public one comes last, so `ConstructorParameters<typeof StepContext>`
  // names it. An `@internal` tag in the public overload's JSDoc would drop it from the .d.ts
  // too (issue 8: `new StepContext({...})` failed with TS2554 in a consumer).
  /**
   * @internal The engine's path: one attempt of step `index` of `run`, with the resolved
   * `config` and the usage of earlier attempts. Positional, not an object: the engine makes one
   * context per step attempt, on the scheduler's hot path.
   */
  constructor(run: StepRunView, index: number, config: StepConfig, usage: StepUsage | undefined, scope?: CancelScope);
  /**
   * A context built by hand, e.g. to unit-test a step: every output in `stepOutputs` is visible
   * to `getDependency`.
   *
   * @param options the step's id, the run's input and deps, the outputs it may read, and
   *   optionally its tracer, config and signal
   */
  constructor(options: StepContextOptions<Deps>);
  constructor(options: StepContextOptions<Deps> | StepRunView, index?: number, config?: StepConfig, usage?: StepUsage, scope?: CancelScope) {
    if (index === undefined) {
      const own = options as StepContextOptions<Deps>;
      checkOptionKeys('StepContext options', own, STEP_CONTEXT_OPTION_KEYS, (message) => new TypeError(message));
      this.config = own.config ?? new StepConfig();
      this.accumulatedUsage = undefined;
      this.view = new RecordRunView(own);
      this.index = 0;
    } else {
      this.config = config!;
      this.accumulatedUsage = usage;
      this.view = options as StepRunView;
      this.index = index;
    }
    this.scope = scope;
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
    return this.view.externalSignal ?? this.attemptScope.signal;
  }

  /** @internal This attempt's cancel scope (a child of the run's): its deadline and cancellation. */
  get attemptScope(): CancelScope {
    return (this.scope ??= this.view.cancelScope.child());
  }

  /** @internal True once this attempt was aborted (its deadline fired, or the run ended). */
  get isAttemptAborted(): boolean {
    return (this.scope ?? this.view.cancelScope).isAborted;
  }

  /**
   * @internal The attempt ended: its deadline timer is cleared and the run forgets it. Its
   * `ctx.run` calls still running (not awaited: `Promise.all` rejected early, a hedge, a call
   * left behind) are aborted, and the answer is a promise that resolves once they settled
   * (at most {@link ABANDONED_CALLS_WAIT_MS}), so that their usage is the step's before it is
   * reported; undefined when none runs (the usual case: nothing to wait for).
   */
  endAttempt(): Promise<void> | undefined {
    const calls = this.calls;
    if (calls === undefined || calls.size === 0) {
      this.scope?.dispose();
      return undefined;
    }
    const abandoned = new FastroAIError(
      `A ctx.run call of step '${this.stepId}' was still running when the step's attempt ended: it was aborted (await every ctx.run call of a step)`,
    );
    const settled: Promise<void>[] = [];
    for (const call of calls) {
      call.scope.abort(abandoned);
      settled.push(call.settled);
    }
    const scope = this.scope;
    return waitForCalls(settled).then(() => scope?.dispose());
  }

  /** @internal What the step was billed so far (all its attempts), as `ctx.run` counts it: kept here and told to the run. */
  billed(usage: StepUsage): void {
    this.accumulatedUsage = usage;
    this.view.usageChanged?.(this.index, usage);
  }

  /** @internal A `ctx.run` call failed at `attempt` and is retried after `delaySeconds` (the run emits `call.retrying`). */
  callRetrying(attempt: number, error: unknown, delaySeconds: number): void {
    this.view.callRetrying?.(this.index, attempt, error, delaySeconds);
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
   *
   * Only transient errors are retried (network errors, timeouts, HTTP 408, 409, 429, 5xx: see
   * `categorizeError`); any other (401, 400, a missing API key, output that fails its schema, a
   * malformed response, a plain `Error` nobody can classify) fails at once, at step level too;
   * a `Retry-After` header longer than the backoff sets the wait;
   * each retry emits `call.retrying`; every request sent counts in `usage.requestCount`.
   *
   * @throws TypeError before any call when `message` is not a string, `options` not an object,
   *   or a dispatch hook not a function
   */
  run<O>(agent: RunnableAgent<O>, message: string, options: AgentCallOptions = {}): Promise<ChatResponse<O>> {
    // Its own scope in the attempt's: aborted with the attempt, or alone if the attempt ends first.
    const scope = this.attemptScope.child();
    const calls = (this.calls ??= new Set());
    const call = { scope } as RunningCall;
    const done = () => {
      calls.delete(call);
      scope.dispose();
    };
    // Forgotten before the caller sees it settle: a step that returns the call's promise ends
    // with no call running (the usual path), not with one to abort and wait for.
    const running = runAgentCall(this, agent, message, options, scope).then(
      (response) => {
        done();
        return response;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
    // Observed here: a call left behind that fails (aborted when its attempt ended) does not crash the process.
    call.settled = running.then(NOTHING, NOTHING);
    calls.add(call);
    this.view.callStarted?.(call.settled);
    return running;
  }
}

/** The view of a context built by hand (`new StepContext(options)`): every given output is visible. */
class RecordRunView implements StepRunView {
  private ownScope: CancelScope | undefined;
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

  /** A root scope that follows the given signal, made on first need. */
  get cancelScope(): CancelScope {
    return (this.ownScope ??= CancelScope.root(this.externalSignal));
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
