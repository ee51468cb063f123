import { calcPrice } from '@pydantic/genai-prices';
import { CostCalculator } from 'fastroai';

describe('CostCalculator', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  describe('prices from the genai-prices data', () => {
    it('prices gpt-4o at $2.50 / $10 per million tokens, in integer microcents', () => {
      expect(new CostCalculator().calculateCost('gpt-4o', 1_000, 500)).toBe(1_000 * 2.5 + 500 * 10);
    });

    it("prices 'openai:gpt-4o', 'gpt-4o', 'GPT-4o' and a dated id alike", () => {
      const calculator = new CostCalculator();
      const price = calculator.calculateCost('gpt-4o', 12_345, 678);
      expect(calculator.calculateCost('openai:gpt-4o', 12_345, 678)).toBe(price);
      expect(calculator.calculateCost('GPT-4o', 12_345, 678)).toBe(price);
      expect(calculator.calculateCost('gpt-4o-2024-08-06', 12_345, 678)).toBe(price);
    });

    it('prices cached input as the data says: input tokens include the cached ones', () => {
      // gpt-4o: input 2.5, cache read 1.25 per million tokens.
      const cost = new CostCalculator().calculateCost('gpt-4o', 1_000, 100, { cacheReadTokens: 400 });
      expect(cost).toBe(600 * 2.5 + 400 * 1.25 + 100 * 10);
    });

    it('prices cache writes where the data has a price for them', () => {
      // claude-3-5-sonnet: input 3, cache write 3.75, cache read 0.3, output 15.
      const cost = new CostCalculator().calculateCost('anthropic:claude-3-5-sonnet-latest', 10_000, 500, {
        cacheReadTokens: 2_000,
        cacheWriteTokens: 1_000,
      });
      expect(cost).toBe(7_000 * 3 + 2_000 * 0.3 + 1_000 * 3.75 + 500 * 15);
    });

    it('agrees with calcPrice of the data, to the microcent', () => {
      const calculator = new CostCalculator();
      for (const [model, input, output] of [
        ['gpt-4o-mini', 123_456, 7_890],
        ['claude-3-5-haiku-latest', 5_000, 1_000],
        ['gemini-2.0-flash', 99_999, 12_345],
      ] as const) {
        const dollars = calcPrice({ input_tokens: input, output_tokens: output }, model)!.total_price;
        expect(Math.abs(calculator.calculateCost(model, input, output) - dollars * 1_000_000)).toBeLessThan(1);
      }
    });

    it('truncates without float drift where the data sum falls just under an integer', () => {
      // 36 * 0.15 + 36 * 0.6 = 27 exactly; the data's float sum is 26.999999999999996.
      const dollars = calcPrice({ input_tokens: 36, output_tokens: 36 }, 'gpt-4o-mini')!.total_price;
      expect(Math.trunc(dollars * 1_000_000)).toBe(26);
      expect(new CostCalculator().calculateCost('gpt-4o-mini', 36, 36)).toBe(27);
      // 1660 * 0.15 = 249, the data says 248.99999999999997.
      expect(new CostCalculator().calculateCost('gpt-4o-mini', 1_660, 0)).toBe(249);
    });

    it('truncates fractions of a microcent, never rounding up', () => {
      // 7 tokens of gpt-4o-mini input: 7 * 0.15 = 1.05 microcents.
      expect(new CostCalculator().calculateCost('gpt-4o-mini', 7, 0)).toBe(1);
      expect(new CostCalculator().calculateCost('gpt-4o-mini', 6, 0)).toBe(0);
    });
  });

  describe('unknown models', () => {
    it('cost 0 with one warning per model, not per call', () => {
      const calculator = new CostCalculator();
      expect(calculator.calculateCost('my-private-model-a', 1_000, 1_000)).toBe(0);
      expect(calculator.calculateCost('my-private-model-a', 2_000, 1_000)).toBe(0);
      expect(calculator.calculateCost('vllm:my-private-model-a', 2_000, 1_000)).toBe(0);
      expect(calculator.calculateCost('my-private-model-b', 1, 1)).toBe(0);
      expect(warn).toHaveBeenCalledTimes(2);
      expect(warn.mock.calls[0][0]).toContain("'my-private-model-a'");
      expect(warn.mock.calls[0][0]).toContain('addPricingOverride');
      expect(warn.mock.calls[1][0]).toContain("'my-private-model-b'");
    });

    it('an undefined model costs 0 silently', () => {
      expect(new CostCalculator().calculateCost(undefined, 1_000, 1_000)).toBe(0);
      expect(warn).not.toHaveBeenCalled();
    });
  });

  describe('pricing overrides', () => {
    it('win over the data', () => {
      const calculator = new CostCalculator();
      calculator.addPricingOverride('gpt-4o', 2.0, 8.0);
      expect(calculator.calculateCost('gpt-4o', 1_000, 500)).toBe(1_000 * 2 + 500 * 8);
    });

    it('drop the provider prefix of their key too', () => {
      const calculator = new CostCalculator({ pricingOverrides: { 'openai:gpt-4o': { inputPerMtok: 1, outputPerMtok: 1 } } });
      expect(calculator.calculateCost('gpt-4o', 1_000, 1_000)).toBe(2_000);
      expect(calculator.calculateCost('azure:gpt-4o', 1_000, 1_000)).toBe(2_000);
    });

    it('price a model the data does not know, without a warning', () => {
      const calculator = new CostCalculator({ pricingOverrides: { 'my-local-llama': { inputPerMtok: 0.1, outputPerMtok: 0.2 } } });
      expect(calculator.calculateCost('my-local-llama', 1_000_000, 1_000_000)).toBe(300_000);
      expect(warn).not.toHaveBeenCalled();
    });

    it('price cache reads at 10% and cache writes at 125% of the input price by default', () => {
      const calculator = new CostCalculator();
      calculator.addPricingOverride('custom', 1.0, 2.0);
      const cost = calculator.calculateCost('custom', 1_000, 100, { cacheReadTokens: 200, cacheWriteTokens: 100 });
      expect(cost).toBe(700 * 1 + 200 * 0.1 + 100 * 1.25 + 100 * 2);
    });

    it('take explicit cache prices', () => {
      const calculator = new CostCalculator();
      calculator.addPricingOverride('custom', 1.0, 2.0, { cacheReadPerMtok: 0.5, cacheWritePerMtok: 3 });
      expect(calculator.calculateCost('custom', 1_000, 0, { cacheReadTokens: 200, cacheWriteTokens: 100 })).toBe(700 + 100 + 300);
    });

    it('never price uncached input below zero', () => {
      const calculator = new CostCalculator();
      calculator.addPricingOverride('custom', 1.0, 0);
      expect(calculator.calculateCost('custom', 100, 0, { cacheReadTokens: 300 })).toBe(300 * 0.1);
    });

    it('compute exactly: 100 tokens at $0.57 per million are 57 microcents, not 56', () => {
      expect(Math.trunc(100 * 0.57)).toBe(56);
      const calculator = new CostCalculator({ pricingOverrides: { m: { inputPerMtok: 0.57, outputPerMtok: 0 } } });
      expect(calculator.calculateCost('m', 100, 0)).toBe(57);
    });

    it('reject negative or non-numeric prices, naming the model', () => {
      const calculator = new CostCalculator();
      expect(() => calculator.addPricingOverride('m', -1, 1)).toThrow(/'m'.*inputPerMtok/);
      expect(() => calculator.addPricingOverride('m', 1, Number.NaN)).toThrow(/outputPerMtok/);
    });
  });

  describe('conversions', () => {
    const calculator = new CostCalculator();

    it('converts dollars to microcents, rounding the decimal value', () => {
      expect(calculator.dollarsToMicrocents(0.1)).toBe(100_000);
      expect(calculator.dollarsToMicrocents(0.57)).toBe(570_000);
      expect(calculator.dollarsToMicrocents(1.5)).toBe(1_500_000);
      expect(calculator.dollarsToMicrocents(0)).toBe(0);
    });

    it('converts microcents to dollars', () => {
      expect(calculator.microcentsToDollars(1_500_000)).toBe(1.5);
      expect(calculator.microcentsToDollars(7_500)).toBe(0.0075);
    });

    it('formats a cost in microcents, whole cents and dollars', () => {
      expect(calculator.formatCost(1_500_000)).toEqual({ microcents: 1_500_000, cents: 150, dollars: 1.5 });
      expect(calculator.formatCost(12_345)).toEqual({ microcents: 12_345, cents: 1, dollars: 0.012345 });
    });
  });
});

describe('CostCalculator: misspelt options', () => {
  it('refuses a misspelt constructor option, naming the nearest one', () => {
    expect(() => new CostCalculator({ pricingOverride: {} } as never)).toThrow(
      new TypeError("CostCalculator options: unknown option 'pricingOverride' (known: pricingOverrides). Did you mean 'pricingOverrides'?"),
    );
  });

  it('refuses a misspelt key in a pricing override', () => {
    expect(() => new CostCalculator({ pricingOverrides: { 'my-llama': { inputPerMtok: 1, outputPerMtok: 2, cacheReadPerMTok: 0 } as never } })).toThrow(
      /^Pricing override for 'my-llama': unknown option 'cacheReadPerMTok' .*Did you mean 'cacheReadPerMtok'\?$/,
    );
  });

  it('calculateCost refuses a model that is not a string and a misspelt extra count; odd token counts count 0', () => {
    const calculator = new CostCalculator();
    expect(() => calculator.calculateCost(5 as never, 10, 10)).toThrow(new TypeError("calculateCost expects the model as a string ('provider:model' or a name), got 5"));
    expect(() => calculator.calculateCost('gpt-4o', 10, 10, { cacheRead: 5 } as never)).toThrow(/^calculateCost extra: unknown option 'cacheRead' \(known: cacheReadTokens, /);
    expect(calculator.calculateCost('gpt-4o', NaN, -5)).toBe(0);
    expect(calculator.calculateCost('gpt-4o', NaN, 1_000)).toBe(calculator.calculateCost('gpt-4o', 0, 1_000));
  });

  it('refuses a misspelt key in addPricingOverride options', () => {
    expect(() => new CostCalculator().addPricingOverride('m', 1, 2, { cacheWritePerMTok: 1 } as never)).toThrow(TypeError);
  });

  it('still applies the cache prices of an override given to the constructor', () => {
    const calculator = new CostCalculator({ pricingOverrides: { m: { inputPerMtok: 1, outputPerMtok: 1, cacheReadPerMtok: 0 } } });
    // 1,000,000 input tokens of which all are cache reads, at $0: only output counts.
    expect(calculator.calculateCost('m', 1_000_000, 0, { cacheReadTokens: 1_000_000 })).toBe(0);
  });
});
