/**
 * The few ANSI / VT100 control sequences the live view needs (ECMA-48, supported by every
 * terminal Node runs in). No colours: the view must read the same in any theme.
 */

/** Hides the cursor while the view redraws in place. */
export const HIDE_CURSOR = '\x1b[?25l';
/** Shows the cursor again: written on completion, failure and interruption. */
export const SHOW_CURSOR = '\x1b[?25h';
/** Clears the whole line the cursor is on (the cursor does not move). */
export const CLEAR_LINE = '\x1b[2K';

/** Moves the cursor `lines` lines up, to column 0 (nothing for 0 lines). */
export function cursorUp(lines: number): string {
  return lines > 0 ? `\x1b[${lines}F` : '';
}
