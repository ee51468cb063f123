/**
 * The longest wait, in seconds, a Node timer can hold: 2^31-1 ms (about 24.8 days). Node
 * clamps a longer `setTimeout` to 1 ms with only a warning, so a timeout or delay above it
 * would fire at once; configs refuse such values instead (API.md §2).
 */
export const MAX_TIMER_SECONDS = (2 ** 31 - 1) / 1000;

/** True when waiting `seconds` would overflow a Node timer (Infinity included). */
export function exceedsTimerLimit(seconds: number): boolean {
  return seconds * 1000 > 2 ** 31 - 1;
}

/** The end of an error message for a duration above {@link MAX_TIMER_SECONDS}. */
export function timerLimitHint(): string {
  return `at most ${MAX_TIMER_SECONDS} seconds (about 24.8 days: Node's timers fire at once beyond that)`;
}
