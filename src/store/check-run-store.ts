import { describeValue } from '../config/step-config';

/** The {@link RunStore} methods a run calls: a value without one of them is not a store. */
const RUN_METHODS = ['createRun', 'claimRun', 'renewLease', 'recordSteps', 'setRunStatus', 'addRunCost', 'getRun'] as const;

/**
 * Checks that `value` is a {@link RunStore} (the methods a run calls), so that a wrong `store`
 * option fails at once with a message naming it, not after a store's retries as an outage
 * (`StoreUnavailableError: store.createRun is not a function`).
 *
 * @param what the option, for the message (`Pipeline options.store`)
 * @throws TypeError naming the option and the missing methods
 */
export function checkRunStore(what: string, value: unknown): void {
  const kind = `${what} must be a RunStore (${RUN_METHODS.join(', ')} methods)`;
  if (typeof value !== 'object' || value === null) throw new TypeError(`${kind}, got ${describeValue(value)}`);
  const missing = RUN_METHODS.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) throw new TypeError(`${kind}; it has no ${missing.join(', ')} method${missing.length > 1 ? 's' : ''}`);
}
