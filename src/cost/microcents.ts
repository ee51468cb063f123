/**
 * Exact conversions between prices (floats in US dollars) and integer microcents
 * (1 microcent = 1/1,000,000 dollar), free of binary floating-point drift.
 *
 * Prices are decimals with a handful of digits (`0.075` dollars per million tokens), which a
 * double cannot hold exactly: `1000 * 0.075` is `75.00000000000001` and `0.57 * 1e6` is
 * `569999.9999999999`. Truncating such values directly is off by one microcent. Here a price is
 * first turned into an exact decimal (its shortest round-trip digits, as `toFixed` prints them)
 * and scaled to an integer, so the arithmetic runs on `BigInt`s and truncation is exact.
 */

/** Decimal digits kept from a price: enough for any published per-million-token price. */
const PRICE_DECIMALS = 12;
const PRICE_SCALE = 10n ** BigInt(PRICE_DECIMALS);

/**
 * A non-negative decimal number as an integer scaled by 10^12 (exact for up to 12 decimals).
 * @internal
 */
export function toScaledDecimal(value: number): bigint {
  if (!Number.isFinite(value) || value <= 0) return 0n;
  // toFixed rounds the double's exact binary expansion at 12 decimals: 0.075 → "0.075000000000".
  return BigInt(value.toFixed(PRICE_DECIMALS).replace('.', ''));
}

/**
 * Integer microcents of `tokens` tokens at `perMtok` dollars per million tokens, as a scaled
 * decimal (see {@link toScaledDecimal}): dollars per million tokens equal microcents per token.
 * @internal
 */
export function scaledTokenCost(tokens: number, perMtok: number): bigint {
  if (!Number.isFinite(tokens) || tokens <= 0) return 0n;
  return BigInt(Math.trunc(tokens)) * toScaledDecimal(perMtok);
}

/** Truncates a scaled decimal (see {@link toScaledDecimal}) to whole microcents. @internal */
export function truncateScaled(scaled: bigint): number {
  return Number(scaled / PRICE_SCALE);
}

/**
 * Whole microcents of a float amount of microcents that came out of float arithmetic (a price
 * library's sum), truncated toward zero after snapping away its rounding noise: the value is
 * first rounded to 6 decimals, so `1999.9999999999995` (really 2000) gives 2000 and
 * `1999.9996` gives 1999. Exact for amounts below a billion microcents ($1,000 per call).
 */
export function truncateMicrocents(microcents: number): number {
  if (!Number.isFinite(microcents)) return 0;
  const snapped = Number(microcents.toFixed(6));
  return Math.trunc(snapped) || 0;
}

/** Microcents to US dollars, for display (compute with microcents). */
export function microcentsToDollars(microcents: number): number {
  return microcents / 1_000_000;
}

/**
 * US dollars to integer microcents, rounded to the nearest microcent (as the original):
 * `dollarsToMicrocents(0.10)` is `100_000`, `dollarsToMicrocents(0.57)` is `570_000`.
 */
export function dollarsToMicrocents(dollars: number): number {
  if (!Number.isFinite(dollars)) {
    throw new RangeError(`dollarsToMicrocents expects a finite number of dollars, got ${String(dollars)}`);
  }
  // Round the decimal digits, not the drifting product: 0.57 * 1e6 is 569999.9999999999.
  return Math.round(Number((dollars * 1_000_000).toFixed(6))) || 0;
}
