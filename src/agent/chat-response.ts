/** One tool call a model made. */
export interface ToolCallRecord {
  toolCallId: string;
  toolName: string;
  input: unknown;
}

/** Fields of a {@link ChatResponse}; all but `output` and `content` are optional. */
export interface ChatResponseFields<O> {
  output: O;
  content: string;
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  inputAudioTokens?: number;
  outputAudioTokens?: number;
  cacheAudioReadTokens?: number;
  toolCalls?: ToolCallRecord[];
  toolCallCount?: number;
  requestCount?: number;
  costMicrocents?: number;
  processingTimeMs?: number;
  traceId?: string;
  usageDetails?: Record<string, unknown>;
}

/**
 * What an agent call answers: the (typed) output, the text, and its usage and cost.
 * Numeric fields default to 0, except `requestCount`, which defaults to 1 (one model request).
 */
export class ChatResponse<O = string> {
  output: O;
  content: string;
  model: string | undefined;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  inputAudioTokens: number;
  outputAudioTokens: number;
  cacheAudioReadTokens: number;
  toolCalls: ToolCallRecord[];
  toolCallCount: number;
  requestCount: number;
  /** Integer microcents. */
  costMicrocents: number;
  processingTimeMs: number;
  traceId: string | undefined;
  usageDetails: Record<string, unknown>;

  constructor(fields: ChatResponseFields<O>) {
    this.output = fields.output;
    this.content = fields.content;
    this.model = fields.model;
    this.inputTokens = fields.inputTokens ?? 0;
    this.outputTokens = fields.outputTokens ?? 0;
    this.totalTokens = fields.totalTokens ?? this.inputTokens + this.outputTokens;
    this.cacheReadTokens = fields.cacheReadTokens ?? 0;
    this.cacheWriteTokens = fields.cacheWriteTokens ?? 0;
    this.inputAudioTokens = fields.inputAudioTokens ?? 0;
    this.outputAudioTokens = fields.outputAudioTokens ?? 0;
    this.cacheAudioReadTokens = fields.cacheAudioReadTokens ?? 0;
    this.toolCalls = fields.toolCalls ?? [];
    this.toolCallCount = fields.toolCallCount ?? this.toolCalls.length;
    this.requestCount = fields.requestCount ?? 1;
    this.costMicrocents = fields.costMicrocents ?? 0;
    this.processingTimeMs = fields.processingTimeMs ?? 0;
    this.traceId = fields.traceId;
    this.usageDetails = fields.usageDetails ?? {};
  }

  /** The cost in US dollars (for display). */
  get costDollars(): number {
    return this.costMicrocents / 1_000_000;
  }
}
