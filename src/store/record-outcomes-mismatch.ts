/** The error for a `recordSteps` answer that is not one outcome per record (a store's bug), or undefined when it is. */
export function recordOutcomesMismatch(outcomes: unknown, records: number): TypeError | undefined {
  if (Array.isArray(outcomes) && outcomes.length === records) return undefined;
  return new TypeError(`recordSteps answered ${Array.isArray(outcomes) ? outcomes.length : typeof outcomes} outcomes for ${records} records`);
}
