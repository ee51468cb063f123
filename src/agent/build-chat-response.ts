import type { LanguageModelUsage } from 'ai';
import type { CostCalculator } from '../cost/cost-calculator';
import { ChatResponse, type ToolCallRecord } from './chat-response';

/** What one model request of a call (one step of a tool loop) reported. @internal */
export interface ModelStepRecord {
  usage: LanguageModelUsage;
  /** The model that answered (`gpt-4o-2024-08-06`), when the provider said. */
  modelId: string | undefined;
  toolCalls: ToolCallRecord[];
}

/** How to turn a call's steps into a {@link ChatResponse}. @internal */
export interface ChatResponseSource<O> {
  output: O;
  content: string;
  steps: readonly ModelStepRecord[];
  /** The SDK's `totalUsage` (all steps); summed from `steps` when absent (a failed call). */
  totalUsage?: LanguageModelUsage;
  /** The configured `'provider:model'` name: it prices the call and names it when the provider did not. */
  modelName: string;
  costCalculator: CostCalculator;
  processingTimeMs: number;
  traceId: string | undefined;
}

/**
 * Fills every field of a {@link ChatResponse} from a call's steps: tokens from the total usage
 * over all tool-loop steps, one request per step, all tool calls, the model that answered last,
 * and the cost, priced request by request (a price tier applies per request) and summed in
 * integer microcents.
 * @internal
 */
export function buildChatResponse<O>(source: ChatResponseSource<O>): ChatResponse<O> {
  const { steps, costCalculator, modelName } = source;
  const usage = source.totalUsage ?? sumUsage(steps.map((step) => step.usage));
  const inputTokens = usage.inputTokens ?? 0;
  const outputTokens = usage.outputTokens ?? 0;
  const cacheReadTokens = usage.inputTokenDetails?.cacheReadTokens ?? usage.cachedInputTokens ?? 0;
  const cacheWriteTokens = usage.inputTokenDetails?.cacheWriteTokens ?? 0;
  let costMicrocents = 0;
  for (const step of steps) costMicrocents += priceStep(costCalculator, modelName, step.usage);
  const toolCalls = steps.flatMap((step) => step.toolCalls);
  const answeredBy = [...steps].reverse().find((step) => step.modelId !== undefined)?.modelId;
  return new ChatResponse<O>({
    output: source.output,
    content: source.content,
    model: answeredBy ?? modelName,
    inputTokens,
    outputTokens,
    totalTokens: usage.totalTokens ?? inputTokens + outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    toolCalls,
    toolCallCount: toolCalls.length,
    requestCount: steps.length,
    costMicrocents,
    processingTimeMs: source.processingTimeMs,
    traceId: source.traceId,
    usageDetails: usageDetailsOf(usage),
  });
}

function priceStep(calculator: CostCalculator, modelName: string, usage: LanguageModelUsage): number {
  return calculator.calculateCost(modelName, usage.inputTokens ?? 0, usage.outputTokens ?? 0, {
    cacheReadTokens: usage.inputTokenDetails?.cacheReadTokens ?? usage.cachedInputTokens ?? 0,
    cacheWriteTokens: usage.inputTokenDetails?.cacheWriteTokens ?? 0,
  });
}

function usageDetailsOf(usage: LanguageModelUsage): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  const put = (key: string, value: number | undefined) => {
    if (value !== undefined) details[key] = value;
  };
  put('noCacheInputTokens', usage.inputTokenDetails?.noCacheTokens);
  put('textOutputTokens', usage.outputTokenDetails?.textTokens);
  put('reasoningTokens', usage.outputTokenDetails?.reasoningTokens ?? usage.reasoningTokens);
  return details;
}

/** The sum of step usages; a field stays undefined only when every step left it unknown. @internal */
export function sumUsage(usages: readonly LanguageModelUsage[]): LanguageModelUsage {
  const add = (a: number | undefined, b: number | undefined) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
  let total: LanguageModelUsage = {
    inputTokens: undefined,
    inputTokenDetails: { noCacheTokens: undefined, cacheReadTokens: undefined, cacheWriteTokens: undefined },
    outputTokens: undefined,
    outputTokenDetails: { textTokens: undefined, reasoningTokens: undefined },
    totalTokens: undefined,
  };
  for (const usage of usages) {
    total = {
      inputTokens: add(total.inputTokens, usage.inputTokens),
      inputTokenDetails: {
        noCacheTokens: add(total.inputTokenDetails.noCacheTokens, usage.inputTokenDetails?.noCacheTokens),
        cacheReadTokens: add(total.inputTokenDetails.cacheReadTokens, usage.inputTokenDetails?.cacheReadTokens),
        cacheWriteTokens: add(total.inputTokenDetails.cacheWriteTokens, usage.inputTokenDetails?.cacheWriteTokens),
      },
      outputTokens: add(total.outputTokens, usage.outputTokens),
      outputTokenDetails: {
        textTokens: add(total.outputTokenDetails.textTokens, usage.outputTokenDetails?.textTokens),
        reasoningTokens: add(total.outputTokenDetails.reasoningTokens, usage.outputTokenDetails?.reasoningTokens),
      },
      totalTokens: add(total.totalTokens, usage.totalTokens),
    };
  }
  return total;
}

/** A step's tool calls as plain records. @internal */
export function toolCallRecords(calls: ReadonlyArray<{ toolCallId: string; toolName: string; input: unknown }>): ToolCallRecord[] {
  return calls.map((call) => ({ toolCallId: call.toolCallId, toolName: call.toolName, input: call.input }));
}
