import { calcPrice } from '@pydantic/genai-prices';
import {
  dollarsToMicrocents,
  microcentsToDollars,
  scaledTokenCost,
  toScaledDecimal,
  truncateMicrocents,
  truncateScaled,
} from './microcents';
import { checkOptionKeys, optionKeysOf } from '../config/check-option-keys';
import { describeValue } from '../config/step-config';

const typeError = (message: string) => new TypeError(message);

/** A model's price in US dollars per million tokens (the original's `pricing_overrides` values). */
export interface PricingOverride {
  inputPerMtok: number;
  outputPerMtok: number;
  /** @default 10% of `inputPerMtok` */
  cacheReadPerMtok?: number;
  /** @default 125% of `inputPerMtok` */
  cacheWritePerMtok?: number;
}

/** Options of a {@link CostCalculator}. */
export interface CostCalculatorOptions {
  /** Prices that win over the bundled price data, keyed by model name (`'openai:'`-style prefixes are dropped). */
  pricingOverrides?: Record<string, PricingOverride>;
}

/**
 * Token counts beyond input and output. Like the price data's, `cacheReadTokens`,
 * `cacheWriteTokens` and `inputAudioTokens` are PART of `inputTokens` (and `outputAudioTokens`
 * of `outputTokens`): a call that read 400 of its 1,000 prompt tokens from cache reports
 * `inputTokens: 1000, cacheReadTokens: 400`, as the AI SDK and OpenAI do.
 */
export interface ExtraTokenCounts {
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  inputAudioTokens?: number;
  outputAudioTokens?: number;
  cacheAudioReadTokens?: number;
}

const EXTRA_TOKEN_KEYS = optionKeysOf<ExtraTokenCounts>({
  cacheReadTokens: true,
  cacheWriteTokens: true,
  inputAudioTokens: true,
  outputAudioTokens: true,
  cacheAudioReadTokens: true,
});

/** Costs in three units: integer microcents, whole cents (truncated), dollars. */
export interface FormattedCost {
  microcents: number;
  cents: number;
  dollars: number;
}

/**
 * Prices model calls in integer microcents (1 microcent = 1/1,000,000 dollar) from the price
 * data of `@pydantic/genai-prices` (the data the Python original uses; bundled, works offline),
 * with overrides for negotiated prices and models the data does not know.
 *
 * - `'openai:gpt-4o'` and `'gpt-4o'` price the same: the part before the first `':'` is dropped
 *   (for override keys too), and names are compared case-insensitively. Dated ids
 *   (`gpt-4o-2024-08-06`) match their model.
 * - Cached tokens are priced as the data says (cache reads of `gpt-4o` at half the input price).
 * - An override wins over the data. With one, uncached input is
 *   `max(0, input - cacheRead - cacheWrite)`, and cache reads / writes cost 10% / 125% of the
 *   input price unless given.
 * - An unknown model costs 0, with one `console.warn` per model and calculator (not per call).
 * - Results are truncated to whole microcents, never rounded up, without float drift.
 *
 * @example
 * const calculator = new CostCalculator({ pricingOverrides: { 'my-llama': { inputPerMtok: 0.1, outputPerMtok: 0.2 } } });
 * calculator.calculateCost('openai:gpt-4o', 1_000, 500); // 7_500 microcents ($0.0075)
 */
export class CostCalculator {
  private readonly overrides = new Map<string, PricingOverride>();
  private readonly warnedModels = new Set<string>();

  constructor(options: CostCalculatorOptions = {}) {
    checkOptionKeys('CostCalculator options', options, ['pricingOverrides'], typeError);
    for (const [model, override] of Object.entries(options.pricingOverrides ?? {})) {
      checkOptionKeys(
        `Pricing override for '${model}'`,
        override,
        ['inputPerMtok', 'outputPerMtok', 'cacheReadPerMtok', 'cacheWritePerMtok'],
        typeError,
      );
      const { cacheReadPerMtok, cacheWritePerMtok } = override;
      this.addPricingOverride(model, override.inputPerMtok, override.outputPerMtok, { cacheReadPerMtok, cacheWritePerMtok });
    }
  }

  /**
   * The cost of one call in integer microcents, truncated.
   *
   * @param model `'provider:model'` or a bare model name; `undefined` costs 0
   * @param inputTokens all prompt tokens, cached ones included
   * @param outputTokens all completion tokens
   * @param extra cache and audio token counts (subsets of the above)
   *
   * A token count that is not a finite number ≥ 0 counts 0 (a provider's odd usage must not
   * lose the price of the rest of a paid call).
   * @throws TypeError for a model that is not a string, or `extra` with an unknown key (`cacheRead`)
   */
  calculateCost(model: string | undefined, inputTokens: number, outputTokens: number, extra: ExtraTokenCounts = {}): number {
    if (model !== undefined && typeof model !== 'string') throw new TypeError(`calculateCost expects the model as a string ('provider:model' or a name), got ${describeValue(model)}`);
    if (typeof extra !== 'object' || extra === null) throw new TypeError(`calculateCost extra must be an object of token counts, got ${describeValue(extra)}`);
    checkOptionKeys('calculateCost extra', extra, EXTRA_TOKEN_KEYS, typeError);
    if (model === undefined || model === '') return 0;
    const name = normalizeModelName(model);
    const override = this.overrides.get(name);
    if (override !== undefined) return costFromOverride(override, inputTokens, outputTokens, extra);
    const price = priceFromData(name, inputTokens, outputTokens, extra);
    if (price === undefined) {
      this.warnOnce(model, name);
      return 0;
    }
    return price;
  }

  /**
   * Adds or replaces the price of a model (dollars per million tokens); it wins over the data.
   *
   * @example
   * calculator.addPricingOverride('gpt-4o', 2.0, 8.0); // a volume discount
   * calculator.addPricingOverride('my-local-llama', 0.1, 0.2, { cacheReadPerMtok: 0 });
   */
  addPricingOverride(
    model: string,
    inputPerMtok: number,
    outputPerMtok: number,
    options: { cacheReadPerMtok?: number; cacheWritePerMtok?: number } = {},
  ): void {
    checkOptionKeys(`addPricingOverride options for '${model}'`, options, ['cacheReadPerMtok', 'cacheWritePerMtok'], typeError);
    checkPrice(model, 'inputPerMtok', inputPerMtok);
    checkPrice(model, 'outputPerMtok', outputPerMtok);
    if (options.cacheReadPerMtok !== undefined) checkPrice(model, 'cacheReadPerMtok', options.cacheReadPerMtok);
    if (options.cacheWritePerMtok !== undefined) checkPrice(model, 'cacheWritePerMtok', options.cacheWritePerMtok);
    this.overrides.set(normalizeModelName(model), {
      inputPerMtok,
      outputPerMtok,
      cacheReadPerMtok: options.cacheReadPerMtok,
      cacheWritePerMtok: options.cacheWritePerMtok,
    });
  }

  /** Microcents to US dollars, for display. */
  microcentsToDollars(microcents: number): number {
    return microcentsToDollars(microcents);
  }

  /** US dollars to integer microcents, rounded to the nearest (`0.10` → `100_000`). */
  dollarsToMicrocents(dollars: number): number {
    return dollarsToMicrocents(dollars);
  }

  /** The cost in microcents, whole cents (truncated) and dollars: `1_500_000` → `{ 1500000, 150, 1.5 }`. */
  formatCost(microcents: number): FormattedCost {
    return { microcents, cents: Math.trunc(microcents / 10_000), dollars: microcentsToDollars(microcents) };
  }

  private warnOnce(model: string, name: string): void {
    if (this.warnedModels.has(name)) return;
    this.warnedModels.add(name);
    console.warn(
      `fastroai: no price known for model '${model}'; its calls cost 0. ` +
        `Give it one with costCalculator.addPricingOverride('${name}', inputPerMtok, outputPerMtok).`,
    );
  }
}

/** `'openai:GPT-4o '` → `'gpt-4o'`: the provider prefix dropped, trimmed, lower case. */
function normalizeModelName(model: string): string {
  const colon = model.indexOf(':');
  return (colon === -1 ? model : model.slice(colon + 1)).trim().toLowerCase();
}

function costFromOverride(override: PricingOverride, inputTokens: number, outputTokens: number, extra: ExtraTokenCounts): number {
  const cacheRead = extra.cacheReadTokens ?? 0;
  const cacheWrite = extra.cacheWriteTokens ?? 0;
  const uncachedInput = Math.max(0, inputTokens - cacheRead - cacheWrite);
  // Default cache prices as exact decimals: 10% and 125% of the input price.
  const inputScaled = toScaledDecimal(override.inputPerMtok);
  const cacheReadScaled =
    override.cacheReadPerMtok !== undefined ? toScaledDecimal(override.cacheReadPerMtok) : inputScaled / 10n;
  const cacheWriteScaled =
    override.cacheWritePerMtok !== undefined ? toScaledDecimal(override.cacheWritePerMtok) : (inputScaled * 5n) / 4n;
  const total =
    scaledTokenCost(uncachedInput, override.inputPerMtok) +
    BigInt(wholeTokens(cacheRead)) * cacheReadScaled +
    BigInt(wholeTokens(cacheWrite)) * cacheWriteScaled +
    scaledTokenCost(outputTokens, override.outputPerMtok);
  return truncateScaled(total);
}

/** The data's price in microcents, or undefined when it does not know the model. */
function priceFromData(name: string, inputTokens: number, outputTokens: number, extra: ExtraTokenCounts): number | undefined {
  const usage: Record<string, number> = {
    input_tokens: wholeTokens(inputTokens),
    output_tokens: wholeTokens(outputTokens),
  };
  addCount(usage, 'cache_read_tokens', extra.cacheReadTokens);
  addCount(usage, 'cache_write_tokens', extra.cacheWriteTokens);
  addCount(usage, 'input_audio_tokens', extra.inputAudioTokens);
  addCount(usage, 'output_audio_tokens', extra.outputAudioTokens);
  addCount(usage, 'cache_audio_read_tokens', extra.cacheAudioReadTokens);
  // The data treats cache and audio counts as parts of the input: a caller that reported more
  // cached than total tokens would make it throw, so the total is raised to cover its parts.
  usage.input_tokens = Math.max(
    usage.input_tokens,
    (usage.cache_read_tokens ?? 0) + (usage.cache_write_tokens ?? 0),
    usage.input_audio_tokens ?? 0,
  );
  usage.output_tokens = Math.max(usage.output_tokens, usage.output_audio_tokens ?? 0);
  let result: ReturnType<typeof calcPrice>;
  try {
    result = calcPrice(usage, name);
  } catch {
    return undefined;
  }
  if (result === null) return undefined;
  return truncateMicrocents(result.total_price * 1_000_000);
}

function addCount(usage: Record<string, number>, key: string, value: number | undefined): void {
  const tokens = wholeTokens(value ?? 0);
  if (tokens > 0) usage[key] = tokens;
}

function wholeTokens(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.trunc(value) : 0;
}

function checkPrice(model: string, field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`Pricing override for '${model}': ${field} must be a number of dollars >= 0, got ${String(value)}`);
  }
}
