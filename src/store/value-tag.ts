/**
 * The tags of the stored-value codec ({@link encodeValue}, {@link decodeValue}).
 *
 * A tagged value is stored as `{"$t": <tag>, "v": <payload>}`. A plain object that has its own
 * `$t` key is stored under the `Object` tag as a list of `[key, value]` pairs, so that no user
 * data can pass for a tag.
 */
export const TAG_KEY = '$t';
/** The key of a tagged value's payload. */
export const PAYLOAD_KEY = 'v';

/** Every tag the codec writes. */
export type ValueTag =
  | 'undefined'
  | 'Number'
  | 'BigInt'
  | 'Date'
  | 'Map'
  | 'Set'
  | 'Error'
  | 'Uint8Array'
  | 'Buffer'
  | 'ConversationState'
  | 'StepUsage'
  | 'Object';
