import { nearestName } from '../config/nearest-name';
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
