/** The longest run id the inspector serves (a store holds longer ones; a URL that long is unlikely). */
const RUN_ID_MAX_LENGTH = 1_024;

/**
 * What the inspector accepts as a run id in a URL (decoded): any text a run can be recorded
 * under, 1 to 1,024 characters, but not made of dots only (`.` and `..` are dot segments a browser
 * resolves away, encoded or not), without NUL, and well-formed (no half of a surrogate pair, as
 * an emoji cut in two leaves: it cannot be put in a URL). Every value is escaped where it is
 * shown, and a run id only ever names a run in the store, never a file.
 */
export function isRunId(text: string): boolean {
  return text.length >= 1 && text.length <= RUN_ID_MAX_LENGTH && !DOTS_ONLY.test(text) && !text.includes('\0') && !LONE_SURROGATE.test(text);
}

const DOTS_ONLY = /^\.+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
