import type { ChatResponse } from '../agent/chat-response';
import type { RunnableAgent } from '../agent/runnable-agent';
import { describeValue } from '../config/step-config';
import { checkOptionKeys } from '../config/check-option-keys';
import { exceedsTimerLimit, timerLimitHint } from '../config/max-timer-seconds';
import { AGENT_CALL_OPTION_KEYS } from './agent-call-option-keys';
import { CostBudgetExceededError } from '../errors/cost-budget-exceeded-error';
import { StepTimeoutError } from '../errors/step-timeout-error';
import { toError } from '../errors/step-execution-error';
import { reportedUsageOf } from '../usage/reported-usage';
import { StepUsage } from '../usage/step-usage';
import { abortableSleep, raceAbort } from './abortable-sleep';
import { backoffSeconds, isNeverRetried, markRetriesExhausted } from './retry-policy';
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
 * An error that leaves this function is final for the step level (not retried again), except
 * when the step attempt itself was aborted (its deadline, the run's failure or cancellation):
 * that failure is the step's.
 */
export async function runAgentCall<O>(
  ctx: StepContext<unknown>,
  agent: RunnableAgent<O>,
  message: string,
  options: AgentCallOptions,
): Promise<ChatResponse<O>> {
  checkOptionKeys('ctx.run options', options, AGENT_CALL_OPTION_KEYS, (message) => markRetriesExhausted(new TypeError(message)));
  if (typeof agent !== 'object' || agent === null || typeof agent.run !== 'function') {
    throw markRetriesExhausted(new TypeError(`ctx.run expects an agent with a run(message, options) method, got ${describeValue(agent)}`));
  }
  const timeoutSeconds = options.timeout !== undefined ? checkTimeout(options.timeout) : ctx.config.timeout;
  const retries = options.retries !== undefined ? checkRetries(options.retries) : ctx.config.retries;
  const stepSignal = ctx.signal;
  const runBudget = ctx.runBudget;
  let lastError: unknown;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    checkBudgets(ctx, runBudget);
    if (stepSignal.aborted) throw stepSignal.reason;
    if (agent.onBeforeDispatch) {
      try {
        await agent.onBeforeDispatch();
      } catch (hookError) {
        throw hookFailure(hookError, stepSignal);
      }
    }
    let response: ChatResponse<O> | undefined;
    let error: unknown;
    try {
      response = await callOnce(ctx, agent, message, timeoutSeconds, attempt, stepSignal);
    } catch (caught) {
      error = caught;
    }
    const usage = response ?? reportedUsageOf(error);
    if (usage !== undefined || ctx.accumulatedUsage === undefined) {
      const added = usage === undefined ? new StepUsage() : StepUsage.fromChatResponse(usage);
      ctx.accumulatedUsage = ctx.accumulatedUsage === undefined ? added : ctx.accumulatedUsage.add(added);
      if (runBudget !== undefined) runBudget.spentMicrocents += added.costMicrocents;
    }
    if (agent.onAfterDispatch) {
      try {
        await agent.onAfterDispatch(error);
      } catch (hookError) {
        throw hookFailure(hookError, stepSignal);
      }
    }
    if (response !== undefined) return response;
    if (stepSignal.aborted) throw stepSignal.reason;
    if (isNeverRetried(error)) throw markRetriesExhausted(error);
    lastError = error;
    if (attempt <= retries) await abortableSleep(backoffSeconds(ctx.config.retryDelay, attempt) * 1000, stepSignal);
  }
  throw markRetriesExhausted(toError(lastError));
}

/**
 * A dispatch hook's error propagates at once (API.md §5) and, like every error leaving `ctx.run`,
 * is final for the step level: a step retry would only call the hook again. Unless the step
 * attempt itself was aborted meanwhile: then the failure is the step's.
 */
function hookFailure(error: unknown, stepSignal: AbortSignal): unknown {
  return stepSignal.aborted ? error : markRetriesExhausted(toError(error));
}

function checkBudgets(ctx: StepContext<unknown>, runBudget: RunBudget | undefined): void {
  const stepBudget = ctx.config.costBudget;
  const stepSpent = ctx.accumulatedUsage?.costMicrocents ?? 0;
  if (stepBudget !== null && stepSpent >= stepBudget) {
    throw new CostBudgetExceededError(stepBudget, stepSpent, ctx.stepId);
  }
  if (runBudget !== undefined && runBudget.budgetMicrocents !== null && runBudget.spentMicrocents >= runBudget.budgetMicrocents) {
    throw new CostBudgetExceededError(runBudget.budgetMicrocents, runBudget.spentMicrocents, ctx.stepId, 'run');
  }
}

async function callOnce<O>(
  ctx: StepContext<unknown>,
  agent: RunnableAgent<O>,
  message: string,
  timeoutSeconds: number | null,
  attempt: number,
  stepSignal: AbortSignal,
): Promise<ChatResponse<O>> {
  const controller = new AbortController();
  const forwardStepAbort = () => controller.abort(stepSignal.reason);
  stepSignal.addEventListener('abort', forwardStepAbort, { once: true });
  const timer =
    timeoutSeconds !== null && timeoutSeconds > 0 && timeoutSeconds !== Infinity
      ? setTimeout(
          () => controller.abort(new StepTimeoutError(ctx.stepId, timeoutSeconds, attempt, 'Agent call in step')),
          timeoutSeconds * 1000,
        )
      : undefined;
  try {
    const call = Promise.resolve().then(() =>
      agent.run(message, { deps: ctx.deps, tracer: ctx.tracer, signal: controller.signal }),
    );
    return await raceAbort(call, controller.signal);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    stepSignal.removeEventListener('abort', forwardStepAbort);
  }
}

function checkTimeout(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw markRetriesExhausted(new TypeError(`ctx.run timeout must be a number of seconds >= 0, got ${describeValue(value)}`));
  }
  if (value !== Infinity && exceedsTimerLimit(value)) {
    throw markRetriesExhausted(new TypeError(`ctx.run timeout must be ${timerLimitHint()}, got ${describeValue(value)}`));
  }
  return value;
}

function checkRetries(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw markRetriesExhausted(new TypeError(`ctx.run retries must be an integer >= 0, got ${describeValue(value)}`));
  }
  return value;
}
