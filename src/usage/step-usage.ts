import type { ChatResponse } from '../agent/chat-response';

/** The numeric fields of a {@link StepUsage}. */
export const STEP_USAGE_COUNTERS = [
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'inputAudioTokens',
  'outputAudioTokens',
  'cacheAudioReadTokens',
  'requestCount',
  'toolCallCount',
  'costMicrocents',
  'processingTimeMs',
] as const;
export type StepUsageCounter = (typeof STEP_USAGE_COUNTERS)[number];

/** Fields of a {@link StepUsage}: every counter and the model. */
export type StepUsageFields = { [K in StepUsageCounter]: number } & { model: string | undefined };

/**
 * True when stored usage fields tell of a `ctx.run` call: a model, or any counter above 0 (a
 * cache hit may report tokens with no request nor cost). A step that made none records zeros.
 */
export function reportsUsage(fields: StepUsageFields): boolean {
  return typeof fields.model === 'string' || STEP_USAGE_COUNTERS.some((counter) => fields[counter] > 0);
}

/**
 * Tokens, requests, cost (integer microcents) and time of one step's `ctx.run` calls.
 * Immutable in spirit: `add` returns a new object.
 */
export class StepUsage implements StepUsageFields {
  inputTokens = 0;
  outputTokens = 0;
  cacheReadTokens = 0;
  cacheWriteTokens = 0;
  inputAudioTokens = 0;
  outputAudioTokens = 0;
  cacheAudioReadTokens = 0;
  requestCount = 0;
  toolCallCount = 0;
  costMicrocents = 0;
  processingTimeMs = 0;
  model: string | undefined = undefined;

  /**
   * @param fields counters default to 0, `model` to undefined
   * @throws TypeError naming the field when a counter is not an integer >= 0 (`processingTimeMs`:
   *   a finite number >= 0): a `NaN`, negative or string count would corrupt every sum it enters
   */
  constructor(fields: Partial<StepUsageFields> = {}) {
    for (const counter of STEP_USAGE_COUNTERS) {
      const value = fields[counter];
      if (value === undefined) continue;
      const ok =
        typeof value === 'number' &&
        value >= 0 &&
        (counter === 'processingTimeMs' ? Number.isFinite(value) : Number.isSafeInteger(value));
      if (!ok) {
        throw new TypeError(
          `StepUsage ${counter} must be ${counter === 'processingTimeMs' ? 'a number' : 'an integer'} >= 0, got ${describeCount(value)}`,
        );
      }
      this[counter] = value;
    }
    this.model = fields.model;
  }

  /** The sum of both usages, as a new object; `model` is this one's, else the other's. */
  add(other: StepUsage): StepUsage {
    const sum = new StepUsage({ model: this.model ?? other.model });
    for (const counter of STEP_USAGE_COUNTERS) sum[counter] = this[counter] + other[counter];
    return sum;
  }

  /** The usage one model response reports. */
  static fromChatResponse(response: ChatResponse<unknown>): StepUsage {
    return new StepUsage({
      inputTokens: response.inputTokens,
      outputTokens: response.outputTokens,
      cacheReadTokens: response.cacheReadTokens,
      cacheWriteTokens: response.cacheWriteTokens,
      inputAudioTokens: response.inputAudioTokens,
      outputAudioTokens: response.outputAudioTokens,
      cacheAudioReadTokens: response.cacheAudioReadTokens,
      requestCount: response.requestCount,
      toolCallCount: response.toolCallCount,
      costMicrocents: response.costMicrocents,
      processingTimeMs: response.processingTimeMs,
      model: response.model,
    });
  }
}

function describeCount(value: unknown): string {
  return typeof value === 'string' ? `'${value}' (a string)` : String(value);
}

/** The usage of a step that made no `ctx.run` call: one shared, frozen object (`add` returns new ones). */
export const EMPTY_STEP_USAGE: StepUsage = Object.freeze(new StepUsage()) as StepUsage;
