/**
 * What the inspector accepts as a run id in a URL: 1 to 200 characters of letters, digits and
 * `_ . : -`, not made of dots only (so never `.` or `..`). Random UUIDs, the default, are ids.
 * A run recorded under another id is listed but cannot be opened here.
 */
const RUN_ID = /^(?!\.+$)[A-Za-z0-9_.:-]{1,200}$/;

/** Whether `text` is a run id the inspector serves (see {@link RUN_ID}). */
export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}
