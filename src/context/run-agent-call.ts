import { ChatResponse } from '../agent/chat-response';
import type { AgentRunOptions, RunnableAgent } from '../agent/runnable-agent';
import { REPORT_USAGE, type ReportUsage } from '../agent/report-usage';
import { describeValue } from '../config/step-config';
import { checkOptionKeys } from '../config/check-option-keys';
import { exceedsTimerLimit, timerLimitHint } from '../config/max-timer-seconds';
import { AGENT_CALL_OPTION_KEYS } from './agent-call-option-keys';
import { CostBudgetExceededError } from '../errors/cost-budget-exceeded-error';
import { StepTimeoutError } from '../errors/step-timeout-error';
import { toError } from '../errors/step-execution-error';
import { ErrorCategory } from '../errors/error-category';
import { categorizeError } from '../agent/categorize-error';
import { retryAfterSeconds } from '../agent/retry-after-seconds';
import { readResponseUsage } from '../usage/read-response-usage';
import { reportedUsageOf } from '../usage/reported-usage';
import { StepUsage } from '../usage/step-usage';
import type { CancelScope } from '../executor/cancel-scope';
import { settledWithin } from '../clock/settled-within';
import { callRetryDelaySeconds, isNeverRetried, markRetriesExhausted } from './retry-policy';
import type { RunBudget } from './run-budget';
import type { StepContext } from './step-context';

/** Per-call options of `ctx.run`; they override the step's resolved config for this call only. */
export interface AgentCallOptions {
  /** Most seconds one attempt of this call may take. @default the step's `timeout` */
  timeout?: number;
  /** Retries of this call. @default the step's `retries` */
  retries?: number;
}

/**
 * The body of `ctx.run`: budgets before each attempt, dispatch hooks around it, a deadline
 * per attempt, retries with exponential backoff, usage accumulation (failed attempts too).
 *
 * Retries: an error is retried only when {@link categorizeError} calls it `TRANSIENT` (network
 * errors, timeouts, HTTP 408, 409, 429, 5xx); any other (401, 400, a missing API key, output
 * that fails its schema, a malformed response, an exhausted quota, a plain `Error` from a
 * hand-written agent) fails at once and is not retried at step level either. The wait
 * is the backoff, or the server's `Retry-After` when longer (capped at 60 s); each retry is
 * reported to the run (`call.retrying`). Every attempt counts at least one request.
 *
 * An error that leaves this function is final for the step level (not retried again), except
 * when the step attempt itself was aborted (its deadline, the run's failure or cancellation):
 * that failure is the step's.
 */
export async function runAgentCall<O>(
  ctx: StepContext<unknown>,
  agent: RunnableAgent<O>,
  message: string,
  options: AgentCallOptions,
  callScope: CancelScope = ctx.attemptScope,
): Promise<ChatResponse<O>> {
  checkOptionKeys('ctx.run options', options, AGENT_CALL_OPTION_KEYS, (message) => markRetriesExhausted(new TypeError(message)));
  if (typeof agent !== 'object' || agent === null || typeof agent.run !== 'function') {
    throw markRetriesExhausted(new TypeError(`ctx.run expects an agent with a run(message, options) method, got ${describeValue(agent)}`));
  }
  checkCall(agent, message, options);
  const timeoutSeconds = options.timeout !== undefined ? checkTimeout(options.timeout) : ctx.config.timeout;
  const retries = options.retries !== undefined ? checkRetries(options.retries) : ctx.config.retries;
  const runBudget = ctx.runBudget;
  let lastError: unknown;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    // Other workers may have spent the run's budget since this step started: ask the store first.
    if (runBudget?.refresh !== undefined && runBudget.budgetMicrocents !== null) await callScope.race(runBudget.refresh());
    const spent = budgetRefusal(ctx, runBudget);
    if (spent !== undefined) throw spent;
    if (callScope.isAborted) throw callScope.reason;
    if (agent.onBeforeDispatch) {
      let hook: Promise<void> | undefined;
      try {
        await withinCall(ctx, timeoutSeconds, attempt, callScope, "Agent call's onBeforeDispatch in step", (call) => {
          if (call.isAborted) throw call.reason; // aborted meanwhile: the hook is not called
          return (hook = Promise.resolve(agent.onBeforeDispatch!()));
        });
      } catch (hookError) {
        // Cut off while it waited (a rate limiter): if it goes through later, its after-hook releases what it took.
        if (hook !== undefined && hookError !== undefined && isAbortOfCall(hookError, callScope)) pairLateBeforeHook(agent, hook, hookError);
        throw hookFailure(hookError, callScope);
      }
      // The hook may have waited (a rate limiter) while other calls spent the budget: checked
      // again right before the request. Refused now, the after-hook still pairs the before-hook.
      const refusal = budgetRefusal(ctx, runBudget);
      if (refusal !== undefined) {
        await afterDispatch(ctx, agent, timeoutSeconds, attempt, callScope, refusal);
        throw refusal;
      }
    }
    let response: ChatResponse<O> | undefined;
    let error: unknown;
    let usage: StepUsage;
    // The request counts from the moment it is sent: a step attempt abandoned meanwhile (its
    // deadline fired) reports the usage it has, and this one request must be in it.
    ctx.billed((ctx.accumulatedUsage ?? NO_USAGE).add(ONE_REQUEST));
    const dispatched = await dispatch(ctx, agent, message, timeoutSeconds, attempt, callScope);
    if (dispatched.ok) {
      const resolved = dispatched.value;
      const read = readResponseUsage(resolved, 'agent.run resolved');
      usage = read.usage;
      if (read.problem === undefined) response = resolved;
      else error = markPermanent(read.problem);
    } else {
      const caught = dispatched.error;
      error = caught;
      const reported = dispatched.reported;
      if (reported === undefined) {
        // The request was sent (or may have been): it counts, with no tokens known.
        usage = ONE_REQUEST;
      } else {
        const read = readResponseUsage(reported, 'agent.run failed and reported (attachReportedUsage)');
        usage = read.usage;
        if (read.problem !== undefined) error = markPermanent(withCause(read.problem, caught));
      }
    }
    ctx.billed(replaceOneRequest(ctx.accumulatedUsage, usage));
    if (runBudget !== undefined) runBudget.charge(usage.costMicrocents);
    await afterDispatch(ctx, agent, timeoutSeconds, attempt, callScope, error);
    if (response !== undefined) return response;
    if (callScope.isAborted) throw callScope.reason;
    if (isNeverRetried(error)) throw markRetriesExhausted(error);
    if (!isRetryableCall(error)) throw markRetriesExhausted(toError(error));
    lastError = error;
    if (attempt <= retries) {
      const delaySeconds = callRetryDelaySeconds(ctx.config.retryDelay, attempt, retryAfterSeconds(error));
      ctx.callRetrying(attempt, error, delaySeconds);
      await callScope.sleep(delaySeconds * 1000);
    }
  }
  throw markRetriesExhausted(toError(lastError));
}

/** Usage before a step's first call. Frozen: `add` returns new objects. */
const NO_USAGE: StepUsage = Object.freeze(new StepUsage()) as StepUsage;

/** The request an attempt counts while it is out. Frozen: `add` returns new objects. */
const ONE_REQUEST: StepUsage = Object.freeze(new StepUsage({ requestCount: 1 })) as StepUsage;

/**
 * `total` with the attempt's provisional {@link ONE_REQUEST} replaced by what the attempt
 * reported (which may count more requests, or none: a call that failed before sending).
 * A delta, not a reset: other `ctx.run` calls of the step may have added usage meanwhile.
 */
function replaceOneRequest(total: StepUsage | undefined, usage: StepUsage): StepUsage {
  const sum = (total ?? ONE_REQUEST).add(usage);
  sum.requestCount -= 1;
  return sum;
}

/** Errors `ctx.run` itself found permanent (a malformed response): never retried, whatever their class. */
const permanentErrors = new WeakSet<object>();

function markPermanent<E extends object>(error: E): E {
  permanentErrors.add(error);
  return error;
}

/**
 * True only for a transient error (API.md §2: network errors, timeouts, HTTP 408, 409, 429 and
 * 5xx, or the AI SDK's `isRetryable`; see {@link categorizeError}). A permanent one, an
 * exhausted resource and one nobody can classify (`UNKNOWN`: a plain `Error` from a
 * hand-written agent, a bug in a tool) fail at once: retrying them pays again for the same failure.
 */
function isRetryableCall(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && permanentErrors.has(error)) return false;
  return categorizeError(error) === ErrorCategory.TRANSIENT;
}

function withCause(error: TypeError, cause: unknown): TypeError {
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return error;
}

/** Refuses a bad call before anything is sent: a message that is not a string, options that are not an object, hooks that are not functions. */
function checkCall(agent: RunnableAgent<unknown>, message: unknown, options: unknown): void {
  if (typeof message !== 'string') {
    throw markRetriesExhausted(new TypeError(`ctx.run expects the message as a string, got ${describeValue(message)}`));
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw markRetriesExhausted(new TypeError(`ctx.run options must be an object ({ timeout?, retries? }), got ${describeValue(options)}`));
  }
  for (const hook of ['onBeforeDispatch', 'onAfterDispatch'] as const) {
    const value = agent[hook];
    if (value !== undefined && value !== null && typeof value !== 'function') {
      throw markRetriesExhausted(new TypeError(`ctx.run expects the agent's ${hook} to be a function, got ${describeValue(value)}`));
    }
  }
}

/** Calls the agent's `onAfterDispatch(error)` (when it has one), bounded as a call attempt; its error propagates at once. */
async function afterDispatch(
  ctx: StepContext<unknown>,
  agent: RunnableAgent<unknown>,
  timeoutSeconds: number | null,
  attempt: number,
  callScope: CancelScope,
  error: unknown,
): Promise<void> {
  if (!agent.onAfterDispatch) return;
  try {
    await withinCall(ctx, timeoutSeconds, attempt, callScope, "Agent call's onAfterDispatch in step", () => agent.onAfterDispatch!(error));
  } catch (hookError) {
    throw hookFailure(hookError, callScope);
  }
}

/**
 * An `onBeforeDispatch` cut off by an abort or a timeout while it waited: when it resolves after
 * all (it took a rate limiter's permit), `onAfterDispatch(reason)` is called, so every
 * before-hook that went through is paired. Not awaited; its errors are ignored.
 */
function pairLateBeforeHook(agent: RunnableAgent<unknown>, hook: Promise<void>, reason: unknown): void {
  if (!agent.onAfterDispatch) {
    hook.catch(() => undefined);
    return;
  }
  hook.then(() => agent.onAfterDispatch!(reason)).catch(() => undefined);
}

/**
 * A dispatch hook's error propagates at once (API.md §5) and, like every error leaving `ctx.run`,
 * is final for the step level: a step retry would only call the hook again. Unless the step
 * attempt itself was aborted meanwhile: then the failure is the step's.
 */
function hookFailure(error: unknown, stepScope: CancelScope): unknown {
  return stepScope.isAborted ? error : markRetriesExhausted(toError(error));
}

/** The error refusing the next request when the step's or the run's budget is spent; undefined while it is not. */
function budgetRefusal(ctx: StepContext<unknown>, runBudget: RunBudget | undefined): CostBudgetExceededError | undefined {
  const stepBudget = ctx.config.costBudget;
  const stepSpent = ctx.accumulatedUsage?.costMicrocents ?? 0;
  if (stepBudget !== null && stepSpent >= stepBudget) return new CostBudgetExceededError(stepBudget, stepSpent, ctx.stepId);
  if (runBudget !== undefined && runBudget.budgetMicrocents !== null && runBudget.spentMicrocents >= runBudget.budgetMicrocents) {
    return new CostBudgetExceededError(runBudget.budgetMicrocents, runBudget.spentMicrocents, ctx.stepId, 'run');
  }
  return undefined;
}

/**
 * How long an agent whose call was aborted (a timeout, the step's or run's end) is given to
 * settle by itself: its own rejection carries the usage of the requests it finished
 * (`attachReportedUsage`, or FastroAgent's REPORT_USAGE: a tool loop's first requests), which
 * the abort alone would lose. The AI SDK rejects at once when its signal aborts; an agent that
 * ignores its signal holds up its attempt's end this long, no longer (real time).
 */
export const AGENT_SETTLE_GRACE_MS = 250;

/** The usage of a call aborted before the agent was called: no request. */
const NOT_SENT = Object.freeze(new ChatResponse<unknown>({ output: undefined, content: '', requestCount: 0 }));

/** An agent call's attempt: its response, or its error and the usage the agent reported with it. */
type Dispatched<O> = { ok: true; value: ChatResponse<O> } | { ok: false; error: unknown; reported: unknown };

/**
 * One attempt of the agent's `run`, as {@link withinCall} bounds it. When the attempt was
 * aborted, the agent (told by its signal) is waited for up to {@link AGENT_SETTLE_GRACE_MS}:
 * the usage it reports then (or the response it resolved with after all) is what it was billed.
 */
async function dispatch<O>(
  ctx: StepContext<unknown>,
  agent: RunnableAgent<O>,
  message: string,
  timeoutSeconds: number | null,
  attempt: number,
  callScope: CancelScope,
): Promise<Dispatched<O>> {
  let started: Promise<ChatResponse<O>> | undefined;
  // What a FastroAgent reported through the options' REPORT_USAGE (it cannot attach it to an
  // abort reason shared with other calls).
  let channel: ChatResponse<unknown> | undefined;
  const report: ReportUsage = (usage) => (channel = usage);
  try {
    const value = await withinCall(ctx, timeoutSeconds, attempt, callScope, 'Agent call in step', (call) => {
      // Aborted before it went out (its attempt ended meanwhile): nothing is sent.
      if (call.isAborted) throw call.reason;
      started = Promise.resolve(agent.run(message, { deps: ctx.deps, tracer: ctx.tracer, signal: call.signal, [REPORT_USAGE]: report } as AgentRunOptions));
      return started;
    });
    return { ok: true, value };
  } catch (error) {
    if (started === undefined && isAbortOfCall(error, callScope)) return { ok: false, error, reported: NOT_SENT };
    const ownUsageOf = (failure: unknown) => channel ?? (isSharedReason(failure, callScope) ? undefined : reportedUsageOf(failure));
    let reported = ownUsageOf(error);
    if (reported === undefined && started !== undefined && isAbortOfCall(error, callScope)) {
      const own = await settledWithin(started, AGENT_SETTLE_GRACE_MS);
      if (own !== undefined) reported = own.ok ? own.value : ownUsageOf(own.error);
    }
    return { ok: false, error, reported };
  }
}

/** True for the reason a call's scope aborted with: an object shared by every call the same timeout, cancellation or attempt end cut off. */
function isSharedReason(error: unknown, callScope: CancelScope): boolean {
  return callScope.isAborted && error === callScope.reason;
}

/** True when `error` is a scope's abort (a timeout, the attempt's or run's end), not the agent's own failure. */
function isAbortOfCall(error: unknown, callScope: CancelScope): boolean {
  return callScope.isAborted || StepTimeoutError.isInstance(error);
}

/**
 * One attempt of a call, or one of its dispatch hooks, in a child scope of the step attempt:
 * bounded by the call's own timeout when that ends before the step's deadline (else the step's
 * deadline bounds it, and its failure is the step's), and aborted with the step. The agent
 * gets that scope's signal; a hook that never settles fails the call as a hung request would.
 *
 * @param what names what timed out (`StepTimeoutError`): `'Agent call in step'`, …
 */
async function withinCall<T>(
  ctx: StepContext<unknown>,
  timeoutSeconds: number | null,
  attempt: number,
  stepScope: CancelScope,
  what: string,
  work: (call: CancelScope) => T | PromiseLike<T>,
): Promise<T> {
  const bounded = timeoutSeconds !== null && timeoutSeconds > 0;
  const call = stepScope.child(bounded ? timeoutSeconds * 1000 : undefined, () => new StepTimeoutError(ctx.stepId, timeoutSeconds!, attempt, what));
  try {
    const pending = Promise.resolve().then(() => work(call));
    return await call.race(pending);
  } finally {
    call.dispose();
  }
}

function checkTimeout(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw markRetriesExhausted(new TypeError(`ctx.run timeout must be a number of seconds >= 0, got ${describeValue(value)}`));
  }
  if (exceedsTimerLimit(value)) {
    throw markRetriesExhausted(new TypeError(`ctx.run timeout must be ${timerLimitHint()}, or 0 for no bound, got ${describeValue(value)}`));
  }
  return value;
}

function checkRetries(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw markRetriesExhausted(new TypeError(`ctx.run retries must be an integer >= 0, got ${describeValue(value)}`));
  }
  return value;
}
