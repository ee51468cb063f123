import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
} from '@ai-sdk/provider';
import { answerDemoPrompt, type DemoAnswer } from './offline-demo-answers';

/** The offline demo model's id: it names no real model, so nobody mistakes its answers (or its prices) for one. */
export const OFFLINE_DEMO_MODEL_ID = 'fastroai-offline-demo';

/** Options of {@link createOfflineDemoModel}. */
export interface OfflineDemoModelOptions {
  /**
   * Simulated latency of a request. `'realistic'`: ~150 ms to the first token, then ~4 ms per
   * output token (a hosted small model); a number: that many ms per request; `0`: none.
   * @default 'realistic'
   */
  latency?: 'realistic' | number;
}

/**
 * A language model that runs offline: an AI SDK `LanguageModelV3` (use it as any model:
 * `new FastroAgent({ model: createOfflineDemoModel() })`) that answers the document-processing
 * demo tasks deterministically from the prompt.
 *
 * - Tasks, recognized from the first line of the latest user message: *extract* (fields and line
 *   items of the document in the prompt), *classify* (document type and priority), *fetch_market*
 *   and *fetch_user* (call the agent's tool with the currency / customer id, then report its
 *   result), *calculate* (sums the line items of the JSON in the prompt, applies the discount and
 *   the rate, in integer cents). Anything else gets a short answer saying what it can do.
 * - Structured output: the answer is JSON fitting the requested schema.
 * - Usage: realistic token counts (about 4 characters a token, for the prompt, tool definitions
 *   and schema, and for the answer), no cached tokens.
 * - Latency as {@link OfflineDemoModelOptions.latency}; an aborted call stops at once.
 *
 * Its id is {@link OFFLINE_DEMO_MODEL_ID}, which no price list knows: give it a price with a
 * `CostCalculator` override to see costs.
 */
export function createOfflineDemoModel(options: OfflineDemoModelOptions = {}): LanguageModelV3 {
  return new OfflineDemoModel(options.latency ?? 'realistic');
}

class OfflineDemoModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3' as const;
  readonly provider = 'fastroai.offline';
  readonly modelId = OFFLINE_DEMO_MODEL_ID;
  readonly supportedUrls: Record<string, RegExp[]> = {};
  private requests = 0;

  constructor(private readonly latency: 'realistic' | number) {}

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const request = this.prepare(options);
    await sleep(request.latencyMs, options.abortSignal);
    const content: LanguageModelV3Content[] =
      request.answer.kind === 'text'
        ? [{ type: 'text', text: request.answer.text }]
        : [{ type: 'tool-call', toolCallId: request.toolCallId, toolName: request.answer.toolName, input: JSON.stringify(request.answer.input) }];
    return {
      content,
      finishReason: request.finishReason,
      usage: request.usage,
      response: { id: request.responseId, modelId: OFFLINE_DEMO_MODEL_ID, timestamp: new Date() },
      warnings: [],
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const request = this.prepare(options);
    const parts = streamParts(request);
    const signal = options.abortSignal;
    // Half the latency before the first part (time to first token), the rest spread over the parts.
    const firstDelayMs = request.latencyMs / 2;
    const perPartMs = parts.length > 0 ? request.latencyMs / 2 / parts.length : 0;
    let index = 0;
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      async pull(controller) {
        try {
          if (index === 0) {
            controller.enqueue({ type: 'stream-start', warnings: [] });
            controller.enqueue({ type: 'response-metadata', id: request.responseId, modelId: OFFLINE_DEMO_MODEL_ID, timestamp: new Date() });
            await sleep(firstDelayMs, signal);
          } else {
            await sleep(perPartMs, signal);
          }
        } catch (error) {
          controller.error(error);
          return;
        }
        const part = parts[index++];
        if (part === undefined) {
          controller.enqueue({ type: 'finish', usage: request.usage, finishReason: request.finishReason });
          controller.close();
          return;
        }
        controller.enqueue(part);
      },
    });
    return { stream };
  }

  private prepare(options: LanguageModelV3CallOptions) {
    if (options.abortSignal?.aborted) throw abortReason(options.abortSignal);
    this.requests += 1;
    const answer = answerDemoPrompt(options);
    const inputTokens = countPromptTokens(options);
    const outputTokens =
      answer.kind === 'text' ? countTokens(answer.text) : countTokens(JSON.stringify(answer.input)) + countTokens(answer.toolName) + 8;
    const usage: LanguageModelV3Usage = {
      inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: undefined },
      outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
    };
    const latencyMs = this.latency === 'realistic' ? 150 + 4 * outputTokens : Math.max(0, this.latency);
    return {
      answer,
      usage,
      latencyMs,
      responseId: `offline-${this.requests}`,
      toolCallId: `call_offline_${this.requests}`,
      finishReason:
        answer.kind === 'text' ? { unified: 'stop' as const, raw: 'stop' } : { unified: 'tool-calls' as const, raw: 'tool_calls' },
    };
  }
}

function streamParts(request: { answer: DemoAnswer; toolCallId: string }): LanguageModelV3StreamPart[] {
  const { answer, toolCallId } = request;
  if (answer.kind === 'tool-call') {
    const input = JSON.stringify(answer.input);
    return [
      { type: 'tool-input-start', id: toolCallId, toolName: answer.toolName },
      { type: 'tool-input-delta', id: toolCallId, delta: input },
      { type: 'tool-input-end', id: toolCallId },
      { type: 'tool-call', toolCallId, toolName: answer.toolName, input },
    ];
  }
  const pieces = answer.text.match(/\s*\S+/g) ?? [answer.text];
  return [
    { type: 'text-start', id: 'text-0' },
    ...pieces.map((delta): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 'text-0', delta })),
    { type: 'text-end', id: 'text-0' },
  ];
}

/** About 4 characters per token, as OpenAI's rule of thumb for English. */
function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Tokens of the whole prompt: messages (with a little per-message overhead), tool definitions and the output schema. */
function countPromptTokens(options: LanguageModelV3CallOptions): number {
  let tokens = 3;
  for (const message of options.prompt) {
    tokens += 4 + countTokens(messageText(message));
  }
  if (options.tools !== undefined && options.tools.length > 0) tokens += countTokens(JSON.stringify(options.tools));
  if (options.responseFormat?.type === 'json' && options.responseFormat.schema !== undefined) {
    tokens += countTokens(JSON.stringify(options.responseFormat.schema));
  }
  return tokens;
}

function messageText(message: LanguageModelV3CallOptions['prompt'][number]): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .map((part) => {
      switch (part.type) {
        case 'text':
        case 'reasoning':
          return part.text;
        case 'tool-call':
          return `${part.toolName} ${JSON.stringify(part.input)}`;
        case 'tool-result':
          return JSON.stringify('value' in part.output ? part.output.value : part.output);
        default:
          return '';
      }
    })
    .join('\n');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}
