import { randomUUID } from 'node:crypto';
import { APICallError, generateText, Output, RetryError, stepCountIs, streamText, type LanguageModel, type ModelMessage, type ToolSet } from 'ai';
import type { ZodType } from 'zod';
import { StepConfig, type StepConfigOptions } from '../config/step-config';
import { CostCalculator } from '../cost/cost-calculator';
import { callSafely } from '../tracing/call-safely';
import { NOOP_TRACER } from '../tracing/noop-tracer';
import { runInSpan } from '../tracing/run-in-span';
import type { Tracer } from '../tracing/tracer';
import { attachReportedUsage, reportedUsageOf } from '../usage/reported-usage';
import { REPORT_USAGE, type ReportUsage } from './report-usage';
import { AgentStep, type AgentPrompt } from './agent-step';
import { AgentTimeoutError } from './agent-timeout-error';
import { CancelScope } from '../executor/cancel-scope';
import { checkFastroAgentOptions } from './check-fastro-agent-options';
import { buildChatResponse, toolCallRecords, type ModelStepRecord } from './build-chat-response';
import type { ChatResponse } from './chat-response';
import { ChunkQueue } from './chunk-queue';
import { resolveModel, type LanguageModelObject } from './resolve-model';
import type { AgentRunOptions, RunnableAgent } from './runnable-agent';
import type { StreamChunk } from './stream-chunk';

/** Options of a {@link FastroAgent}. */
export interface FastroAgentOptions<O = string> {
  /**
   * `'provider:model'` (`'openai:gpt-4o'`, `'anthropic:claude-sonnet-4-5'`) or any AI SDK
   * `LanguageModel` object. `openai:` models use the chat-completions API with `OPENAI_API_KEY`
   * and `OPENAI_BASE_URL`, so any OpenAI-compatible server works.
   * @default 'openai:gpt-4o'
   */
  model?: string | LanguageModel;
  /** @default 'You are a helpful AI assistant.' */
  systemPrompt?: string;
  /** @default 0.7 */
  temperature?: number;
  /** Most tokens the model may generate per request. @default 4096 */
  maxTokens?: number;
  /**
   * Most seconds one call (all of its requests) may take; then the HTTP request is aborted and
   * `AgentTimeoutError` raised. At most 2^31-1 ms (about 24.8 days: Node's timers fire at once
   * past it). @default none
   */
  timeout?: number;
  /**
   * Retries of a failed HTTP request by the AI SDK itself (429 and 5xx answers).
   *
   * Retries belong to the pipeline: `StepConfig.retries` / `ctx.run(agent, msg, { retries })`
   * retry a failed call with fastroai's backoff, count each attempt's usage, fire the dispatch
   * hooks and respect budgets. So the SDK does not retry by default, and `retries: 2` means
   * exactly 3 HTTP requests. A non-zero value here multiplies: `(retries + 1) * (maxRetries + 1)`.
   * @default 0
   */
  maxRetries?: number;
  /** A zod schema: the model answers structured output, validated and typed as `response.output`. */
  outputType?: ZodType<O>;
  /** AI SDK tools the model may call; the agent runs the tool loop. */
  tools?: ToolSet;
  /** Most model requests of one call's tool loop. @default 10 */
  maxSteps?: number;
  /** Prices the calls. @default a shared `CostCalculator` with the bundled price data */
  costCalculator?: CostCalculator;
  /** Runs before every `ctx.run` attempt (throw `DispatchSkippedError` to refuse the call). */
  onBeforeDispatch?: () => Promise<void>;
  /** Runs after every `ctx.run` attempt, with its error or `undefined`. */
  onAfterDispatch?: (error: unknown | undefined) => Promise<void>;
}

/** The calculator agents share when none is given: one warning per unknown model per process. */
const DEFAULT_COST_CALCULATOR = new CostCalculator();

/**
 * An AI agent on the Vercel AI SDK (v6): one call is `generateText` (or `streamText`) with the
 * agent's model, system prompt, settings, tools and structured output, answered as a
 * {@link ChatResponse} with the usage of all tool-loop steps and its cost in microcents.
 *
 * Inside a pipeline, call it with `ctx.run(agent, message)` (or make it a step with
 * {@link FastroAgent.asStep}): budgets, timeouts, retries, dispatch hooks and usage tracking
 * apply. Retries are `ctx.run`'s (see {@link FastroAgentOptions.maxRetries}).
 *
 * A call opens the span `fastroai.agent.run` (attributes `model`, `message_history_length`)
 * on the tracer it is given, and logs the metrics `input_tokens`, `output_tokens` and
 * `cost_microcents` on it; a tracer that throws is reported once (`console.warn`) and ignored,
 * so it never fails (or repeats) a paid call. A failed call carries its usage on its error
 * (`reportedUsageOf`): the tokens and cost its finished requests reported, and every request it
 * sent, the failed one included, so `ctx.run` counts what it cost.
 *
 * @example
 * const classifier = new FastroAgent({
 *   model: 'openai:gpt-4o-mini',
 *   systemPrompt: 'Classify support tickets.',
 *   outputType: z.object({ category: z.enum(['billing', 'bug', 'other']) }),
 * });
 * const classify = classifier.asStep((ctx) => `Ticket: ${ctx.getInput<string>('ticket')}`);
 */
export class FastroAgent<O = string> implements RunnableAgent<O> {
  /** The `'provider:model'` name: it prices calls and labels spans. */
  readonly modelName: string;
  readonly model: LanguageModelObject;
  readonly systemPrompt: string;
  readonly temperature: number;
  readonly maxTokens: number;
  readonly timeout: number | undefined;
  readonly maxRetries: number;
  readonly maxSteps: number;
  readonly outputType: ZodType<O> | undefined;
  readonly tools: ToolSet | undefined;
  readonly costCalculator: CostCalculator;
  readonly onBeforeDispatch?: () => Promise<void>;
  readonly onAfterDispatch?: (error: unknown | undefined) => Promise<void>;
  private readonly outputSpec: ReturnType<typeof Output.object> | undefined;

  constructor(options: FastroAgentOptions<O> = {}) {
    checkFastroAgentOptions(options);
    const resolved = resolveModel(options.model ?? 'openai:gpt-4o');
    this.model = resolved.model;
    this.modelName = resolved.name;
    this.systemPrompt = options.systemPrompt ?? 'You are a helpful AI assistant.';
    this.temperature = options.temperature ?? 0.7;
    this.maxTokens = checkPositiveInteger('maxTokens', options.maxTokens ?? 4096);
    this.timeout = options.timeout === undefined || options.timeout === 0 ? undefined : checkSeconds(options.timeout);
    this.maxRetries = checkCount('maxRetries', options.maxRetries ?? 0);
    this.maxSteps = checkPositiveInteger('maxSteps', options.maxSteps ?? 10);
    this.outputType = options.outputType;
    this.tools = options.tools;
    this.costCalculator = options.costCalculator ?? DEFAULT_COST_CALCULATOR;
    this.outputSpec = options.outputType !== undefined ? Output.object({ schema: options.outputType }) : undefined;
    if (options.onBeforeDispatch !== undefined) this.onBeforeDispatch = options.onBeforeDispatch;
    if (options.onAfterDispatch !== undefined) this.onAfterDispatch = options.onAfterDispatch;
  }

  /**
   * Sends `message` (after `messageHistory`, if given) and answers with the output, the text,
   * and the usage and cost of every request the call made.
   *
   * @param options `signal` aborts the HTTP request; `tracer` gets the call's span and metrics
   */
  run(message: string, options: AgentRunOptions = {}): Promise<ChatResponse<O>> {
    const tracer = options.tracer ?? NOOP_TRACER;
    return runInSpan(
      tracer,
      'fastroai.agent.run',
      async (spanTraceId) => {
        const traceId = spanTraceId || randomUUID();
        try {
          const response = await this.generate(message, options, traceId);
          logUsage(tracer, spanTraceId, response);
          return response;
        } catch (error) {
          const reported = reportedUsageOf(error);
          if (reported !== undefined) logUsage(tracer, spanTraceId, reported);
          throw error;
        }
      },
      this.spanAttributes(options),
    );
  }

  /**
   * Streams the answer: each chunk's `content` is the new text since the previous chunk; then
   * one final chunk `{ content: '', isFinal: true, usageData }`. Like the original, it bypasses
   * `ctx.run` (no budgets, retries or hooks). Breaking out of the loop aborts the request.
   */
  async *runStream(message: string, options: AgentRunOptions = {}): AsyncGenerator<StreamChunk<O>, void, undefined> {
    const tracer = options.tracer ?? NOOP_TRACER;
    const queue = new ChunkQueue<StreamChunk<O>>();
    const consumerGone = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, consumerGone.signal]) : consumerGone.signal;
    const producing = runInSpan(
      tracer,
      'fastroai.agent.run',
      async (spanTraceId) => {
        const traceId = spanTraceId || randomUUID();
        try {
          for await (const chunk of this.stream(message, { ...options, signal }, traceId)) {
            if (chunk.usageData !== undefined) logUsage(tracer, spanTraceId, chunk.usageData);
            queue.push(chunk);
          }
        } catch (error) {
          const reported = reportedUsageOf(error);
          if (reported !== undefined) logUsage(tracer, spanTraceId, reported);
          throw error;
        }
      },
      this.spanAttributes(options),
    ).then(
      () => queue.end(),
      (error: unknown) => queue.fail(error),
    );
    try {
      yield* queue;
    } finally {
      consumerGone.abort(new Error('The stream consumer stopped reading'));
      await producing;
    }
  }

  /**
   * This agent as a pipeline step: `execute` calls `ctx.run(this, prompt)` and returns
   * `response.output`, so the step's usage, budget, timeout and retries apply.
   *
   * @param prompt the message, or a function of the step context that builds it
   * @param config the step's own config (timeout, retries, retryDelay, costBudget)
   *
   * @example
   * const summarize = agent.asStep((ctx) => `Summarize: ${ctx.getInput<string>('document')}`, { retries: 2 });
   */
  asStep(prompt: AgentPrompt, config?: StepConfigOptions | StepConfig): AgentStep<O> {
    const stepConfig = config === undefined || config instanceof StepConfig ? config : new StepConfig(config);
    return new AgentStep<O>(this, prompt, stepConfig);
  }

  private spanAttributes(options: AgentRunOptions): Record<string, unknown> {
    return { model: this.modelName, message_history_length: options.messageHistory?.length ?? 0 };
  }

  private async generate(message: string, options: AgentRunOptions, traceId: string): Promise<ChatResponse<O>> {
    const started = performance.now();
    const steps: ModelStepRecord[] = [];
    const call = this.callSignal(options.signal);
    try {
      const result = await generateText({
        ...this.callSettings(message, options.messageHistory, call.signal),
        onStepFinish: (step) => {
          steps.push({ usage: step.usage, modelId: step.response?.modelId, toolCalls: toolCallRecords(step.toolCalls) });
        },
      });
      const output = (this.outputSpec !== undefined ? result.output : result.text) as O;
      return buildChatResponse<O>({
        output,
        content: result.text,
        steps,
        totalUsage: result.totalUsage,
        modelName: this.modelName,
        costCalculator: this.costCalculator,
        processingTimeMs: elapsedMs(started),
        traceId,
      });
    } catch (error) {
      throw this.failure(error, call, steps, started, traceId, (options as { [REPORT_USAGE]?: ReportUsage })[REPORT_USAGE]);
    } finally {
      call.dispose();
    }
  }

  private async *stream(message: string, options: AgentRunOptions, traceId: string): AsyncGenerator<StreamChunk<O>> {
    const started = performance.now();
    const steps: ModelStepRecord[] = [];
    const call = this.callSignal(options.signal);
    let text = '';
    let stepToolCalls: ModelStepRecord['toolCalls'] = [];
    try {
      const result = streamText({
        ...this.callSettings(message, options.messageHistory, call.signal),
        // Errors arrive as `error` parts below; without this the SDK also logs them to stderr.
        onError: () => undefined,
      });
      for await (const part of result.fullStream) {
        switch (part.type) {
          case 'text-delta':
            if (part.text !== '') {
              text += part.text;
              yield { content: part.text, isFinal: false };
            }
            break;
          case 'tool-call':
            stepToolCalls.push({ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
            break;
          case 'finish-step':
            steps.push({ usage: part.usage, modelId: part.response?.modelId, toolCalls: stepToolCalls });
            stepToolCalls = [];
            break;
          case 'error':
            throw part.error;
          case 'abort':
            throw call.signal?.reason ?? new Error(`Stream aborted${part.reason ? `: ${part.reason}` : ''}`);
        }
      }
      const totalUsage = await result.totalUsage;
      const output = (this.outputSpec !== undefined ? await result.output : text) as O;
      const usageData = buildChatResponse<O>({
        output,
        content: text,
        steps,
        totalUsage,
        modelName: this.modelName,
        costCalculator: this.costCalculator,
        processingTimeMs: elapsedMs(started),
        traceId,
      });
      yield { content: '', isFinal: true, usageData };
    } catch (error) {
      throw this.failure(error, call, steps, started, traceId, (options as { [REPORT_USAGE]?: ReportUsage })[REPORT_USAGE]);
    } finally {
      call.dispose();
    }
  }

  /** Settings common to `generateText` and `streamText`. */
  private callSettings(message: string, history: ModelMessage[] | undefined, signal: AbortSignal | undefined) {
    return {
      model: this.model,
      system: this.systemPrompt,
      messages: [...(history ?? []), { role: 'user' as const, content: message }],
      temperature: this.temperature,
      maxOutputTokens: this.maxTokens,
      maxRetries: this.maxRetries,
      abortSignal: signal,
      tools: this.tools,
      stopWhen: stepCountIs(this.maxSteps),
      output: this.outputSpec,
    };
  }

  /** The call's signal: the caller's, and the agent's own timeout (one cancel scope). */
  private callSignal(external: AbortSignal | undefined): CallSignal {
    if (this.timeout === undefined) return { signal: external, timedOut: () => false, dispose: () => undefined };
    const timeoutSeconds = this.timeout;
    const timeout = new AgentTimeoutError(this.modelName, timeoutSeconds);
    const caller = CancelScope.root(external);
    const scope = caller.child(timeoutSeconds * 1000, () => timeout);
    return {
      signal: scope.signal,
      timedOut: () => scope.reason === timeout,
      // Disposing the root also stops listening to the caller's signal.
      dispose: () => caller.dispose(),
    };
  }

  /** The error a failed call throws: its own timeout as `AgentTimeoutError`, with the usage its finished requests reported. */
  private failure(error: unknown, call: CallSignal, steps: ModelStepRecord[], started: number, traceId: string, report?: ReportUsage): unknown {
    let thrown = error;
    if (call.timedOut() && !AgentTimeoutError.isInstance(error)) {
      thrown = new AgentTimeoutError(this.modelName, this.timeout as number, { cause: error });
    }
    // Rejected with the caller's abort reason itself (fetch does that): the request it cut off
    // counts, and the usage goes to `report` only: that reason is shared by every call the same
    // abort cut off, so usage attached to it would be read by each of them.
    const withAbortReason = call.signal?.aborted === true && thrown === call.signal.reason;
    const failedRequests = withAbortReason ? 1 : failedRequestsOf(error);
    const alreadyReported = reportedUsageOf(thrown);
    if (alreadyReported !== undefined && !withAbortReason) report?.(alreadyReported);
    // Attached even when nothing was sent (a missing API key): ctx.run then counts no request,
    // where an error without usage would count one.
    else if (typeof thrown === 'object' && thrown !== null) {
      const usage = buildChatResponse<unknown>({
        output: undefined,
        content: '',
        steps,
        modelName: this.modelName,
        costCalculator: this.costCalculator,
        processingTimeMs: elapsedMs(started),
        traceId,
      });
      usage.requestCount += failedRequests;
      if (!withAbortReason) attachReportedUsage(thrown, usage);
      report?.(usage);
    }
    return thrown;
  }
}

interface CallSignal {
  signal: AbortSignal | undefined;
  timedOut(): boolean;
  dispose(): void;
}

/** Logs a call's metrics; a tracer that throws is reported once and ignored (the call was paid). */
function logUsage(tracer: Tracer, traceId: string, response: ChatResponse<unknown>): void {
  const metrics: Array<[string, number]> = [
    ['input_tokens', response.inputTokens],
    ['output_tokens', response.outputTokens],
    ['cost_microcents', response.costMicrocents],
  ];
  for (const [name, value] of metrics) callSafely(tracer, 'tracer.logMetric', () => tracer.logMetric(traceId, name, value));
}

/**
 * Requests a failed call sent beyond its finished steps: the one that failed (an HTTP error, a
 * lost connection, an abort or timeout while it was out), or each one the SDK retried itself
 * (`maxRetries`); none when the call failed before sending (a missing API key, a bad prompt) or
 * after its last answer arrived (output that fails its schema, which is in `steps` already).
 */
function failedRequestsOf(error: unknown): number {
  if (RetryError.isInstance(error)) return error.errors.filter((each) => APICallError.isInstance(each)).length || 1;
  if (APICallError.isInstance(error)) return 1;
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (name === 'AbortError' || name === 'TimeoutError' || AgentTimeoutError.isInstance(error)) return 1;
  return 0;
}

function elapsedMs(started: number): number {
  return Math.round(performance.now() - started);
}

function checkSeconds(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`FastroAgent timeout must be a number of seconds >= 0, got ${String(value)}`);
  }
  // Above 2^31-1 ms: refused by checkFastroAgentOptions, before this runs.
  return value;
}

function checkCount(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`FastroAgent ${name} must be an integer >= 0, got ${String(value)}`);
  }
  return value;
}

function checkPositiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`FastroAgent ${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}
