import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { nearestName } from './nearest-name';

/**
 * Refuses option keys that are not options (a misspelt `retires`, `timout`, `maxConcurency`),
 * which would otherwise be silently ignored. The message names the key, the nearest valid one
 * and all of them:
 * `StepConfig options: unknown option 'retires' (known: timeout, retries, retryDelay, costBudget). Did you mean 'retries'?`
 *
 * Only own enumerable string keys count; a value that is not an object is left to the
 * caller's own type check.
 *
 * @param owner what the options are of, as the message's prefix (`'StepConfig options'`)
 * @param options the options as given
 * @param validKeys every key the options may have
 * @param createError the error to throw for a message @default a `PipelineValidationError`
 * @throws the error `createError` makes, for the first unknown key
 */
export function checkOptionKeys(
  owner: string,
  options: unknown,
  validKeys: readonly string[],
  createError: (message: string) => unknown = (message) => new PipelineValidationError(message),
): void {
  if (typeof options !== 'object' || options === null) return;
  for (const key of Object.keys(options)) {
    if (!validKeys.includes(key)) throw createError(unknownOptionMessage(owner, key, validKeys));
  }
}

/** The message of {@link checkOptionKeys} for one unknown key. */
export function unknownOptionMessage(owner: string, key: string, validKeys: readonly string[]): string {
  const nearest = nearestName(key, validKeys);
  const hint = nearest === undefined ? '' : ` Did you mean '${nearest}'?`;
  return `${owner}: unknown option '${key}' (known: ${validKeys.join(', ')}).${hint}`;
}

/**
 * The keys of an options type as a list, checked by the compiler both ways: a key missing
 * from the record, or one the type does not have, fails to compile. So adding an option to
 * the type without adding it here (and the other way round) is caught by `tsc`.
 *
 * @example
 * const KEYS = optionKeysOf<CostCalculatorOptions>({ pricingOverrides: true });
 */
export function optionKeysOf<T>(keys: { [K in keyof Required<T>]: true }): readonly (keyof T & string)[] {
  return Object.freeze(Object.keys(keys)) as readonly (keyof T & string)[];
}
