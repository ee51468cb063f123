import { describeValue } from '../config/step-config';
import { STEP_USAGE_COUNTERS, StepUsage, type StepUsageCounter } from './step-usage';

/** What {@link readResponseUsage} found: the usage to count, and what was wrong, if anything. */
export interface ResponseUsage {
  /** The usage to count: every valid field; an invalid one counts 0 (`requestCount` 1). */
  usage: StepUsage;
  /** A `TypeError` naming the first invalid field; `undefined` when the response is well-formed. */
  problem: TypeError | undefined;
}

/**
 * Reads the usage of an agent's response at the boundary of `ctx.run`, where a hand-written
 * agent's numbers enter budgets and totals: every counter must be an integer >= 0
 * (`processingTimeMs` any finite number >= 0) or left out (0; `requestCount` 1, as in a
 * `ChatResponse`), and `model` a string or absent. A `NaN` cost would
 * otherwise disable a budget, a negative one refund it, and a numeric string turn sums into
 * string concatenation.
 *
 * A malformed response was still paid for: its valid fields are counted, an invalid field counts
 * as 0, and an invalid `requestCount` as the one request that was sent. The caller fails the
 * call with `problem`, which names the field.
 *
 * @param response what the agent resolved (or attached to its error with `attachReportedUsage`)
 * @param source how to name it in the error: `'agent.run resolved'` or `'agent.run failed with'`
 */
export function readResponseUsage(response: unknown, source: string): ResponseUsage {
  if (typeof response !== 'object' || response === null) {
    return {
      usage: new StepUsage({ requestCount: 1 }),
      problem: new TypeError(`${source} ${describeValue(response)}; expected a ChatResponse`),
    };
  }
  const fields = response as Record<string, unknown>;
  const valid: Partial<Record<StepUsageCounter, number>> = {};
  let problem: TypeError | undefined;
  for (const counter of STEP_USAGE_COUNTERS) {
    const value = fields[counter];
    // Left out: its default, as a ChatResponse has it (0; requestCount 1). Any object may be a response (API.md §9).
    if (value === undefined) {
      if (counter === 'requestCount') valid.requestCount = 1;
      continue;
    }
    const ok = counter === 'processingTimeMs' ? isNonNegativeNumber(value) : isCount(value);
    if (ok) valid[counter] = value as number;
    else {
      if (counter === 'requestCount') valid.requestCount = 1;
      problem ??= new TypeError(
        `${source} a ChatResponse whose ${counter} is ${describeValue(value)} (expected ${counter === 'processingTimeMs' ? 'a number' : 'an integer'} >= 0)`,
      );
    }
  }
  const model = fields.model;
  if (model !== undefined && model !== null && typeof model !== 'string') {
    problem ??= new TypeError(`${source} a ChatResponse whose model is ${describeValue(model)} (expected a string)`);
  }
  return { usage: new StepUsage({ ...valid, model: typeof model === 'string' ? model : undefined }), problem };
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isNonNegativeNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
