import { checkOptionKeys } from '../config/check-option-keys';
import { describeValue } from '../config/step-config';

/**
 * Checks a store constructor's options: an object with no key but `keys` (a misspelt `prefx`
 * would otherwise write under the default prefix, a misspelt `conectionString` connect to the
 * `PG*` environment's database).
 *
 * @param owner the store, for the messages (`SqliteRunStore`)
 * @throws TypeError naming the store and the key (and the nearest valid one)
 */
export function checkStoreOptions(owner: string, options: unknown, keys: readonly string[]): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${owner} expects options { ${keys.join(', ')} }, got ${describeValue(options)}`);
  checkOptionKeys(`${owner} options`, options, keys, (message) => new TypeError(message));
}
