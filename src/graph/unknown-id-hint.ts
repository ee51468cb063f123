import { nearestName } from '../config/nearest-name';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { formatIdList } from './format-id-list';

/** How many known ids a message lists before it says how many more there are. */
const LISTED_IDS = 20;

/**
 * What to append to a message about an unknown step id (a typo in `dependencies`,
 * `outputStep`, `stepConfigs`): the known ids and the nearest one, so the message says what
 * to write instead. `. Known steps: ['extract', 'classify']. Did you mean 'extract'?`
 *
 * A pipeline of thousands of steps lists the first 20 and the count of the rest.
 *
 * @param id the unknown id as given
 * @param knownIds the pipeline's step ids, in declaration order
 */
export function unknownIdHint(id: string, knownIds: readonly string[]): string {
  const listed =
    knownIds.length <= LISTED_IDS
      ? formatIdList(knownIds)
      : `${formatIdList(knownIds.slice(0, LISTED_IDS))} and ${(knownIds.length - LISTED_IDS).toLocaleString('en-US')} more`;
  const nearest = nearestName(id, knownIds);
  return `. Known steps: ${listed}${nearest === undefined ? '' : `. Did you mean '${nearest}'?`}`;
}

/**
 * A `PipelineValidationError` about an unknown step id. Its `message` is exactly the one API.md
 * gives (`Step 'a' depends on unknown: 'x'`, as in the original); the hint of
 * {@link unknownIdHint} (the known steps, the nearest one) follows it as explained by
 * {@link validationErrorWithHint}.
 *
 * @param where where the id was written (`@DependsOn on ShipStep`), said before the known steps
 */
export function unknownIdError(message: string, id: string, knownIds: readonly string[], where?: string): PipelineValidationError {
  return validationErrorWithHint(message, `${where === undefined ? '' : ` (${where})`}${unknownIdHint(id, knownIds)}`);
}

/**
 * A `PipelineValidationError` whose `message` is exactly `message` (the contract's wording),
 * and which says more where people read it: `suffix` ends the first line of its `stack`
 * (what an uncaught error, a logger or a test runner prints), and is its `hint` (without its
 * leading `. ` or `: `).
 *
 * @param suffix the rest of the sentence, as printed after the message (`. Known steps: ['a']`)
 */
export function validationErrorWithHint(message: string, suffix: string): PipelineValidationError {
  const error = new PipelineValidationError(message);
  Object.defineProperty(error, 'hint', { value: suffix.replace(/^[.:]?\s+/, ''), enumerable: false, configurable: true, writable: true });
  const stack = error.stack;
  const at = typeof stack === 'string' ? stack.indexOf(message) : -1;
  if (at !== -1) error.stack = `${stack!.slice(0, at + message.length)}${suffix}${stack!.slice(at + message.length)}`;
  return error;
}
