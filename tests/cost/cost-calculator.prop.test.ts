import { fc, test } from '@fast-check/jest';
import { CostCalculator } from 'fastroai';

/** A price with at most 4 decimals, as an exact integer of 1/10,000 dollars per million tokens. */
const priceTenThousandths = fc.integer({ min: 0, max: 200_000 });
const tokens = fc.integer({ min: 0, max: 5_000_000 });

describe('CostCalculator (properties)', () => {
  test.prop([priceTenThousandths, priceTenThousandths, tokens, tokens])(
    'an override prices exactly: the truncated exact decimal product, whatever the float rounding',
    (inputPrice, outputPrice, input, output) => {
      const calculator = new CostCalculator();
      calculator.addPricingOverride('m', inputPrice / 10_000, outputPrice / 10_000);
      const exact = (BigInt(input) * BigInt(inputPrice) + BigInt(output) * BigInt(outputPrice)) / 10_000n;
      expect(calculator.calculateCost('m', input, output)).toBe(Number(exact));
    },
  );

  test.prop([tokens, tokens, fc.integer({ min: 0, max: 100 })])(
    'gpt-4o-mini from the data: exactly input * 0.15 + cached * 0.075 + output * 0.6, truncated',
    (input, output, cachedPercent) => {
      const cached = Math.floor((input * cachedPercent) / 100);
      // In thousandths of a microcent: 150 per uncached token, 75 per cached one, 600 per output token.
      const exact = (BigInt(input - cached) * 150n + BigInt(cached) * 75n + BigInt(output) * 600n) / 1_000n;
      expect(new CostCalculator().calculateCost('openai:gpt-4o-mini', input, output, { cacheReadTokens: cached })).toBe(Number(exact));
    },
  );
});
