/**
 * `line` made safe to print as one terminal line, then cut to at most `width` characters (code
 * points), ending with `…` when cut. The live view never lets a line wrap or break: a line that
 * takes two rows (wrapped, or with a newline in an error message) would leave stale rows
 * behind when it redraws in place (one row up per line), and a control character from a
 * model's text (an escape sequence) must not reach the terminal.
 */
export function fitWidth(line: string, width: number): string {
  const chars = Array.from(printable(line));
  if (chars.length <= width) return chars.join('');
  return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
}

/** `text` with line breaks and tabs as spaces, and every other control character (C0, DEL, C1: ESC included) as `�`. */
export function printable(text: string): string {
  return text.replace(/\r\n|[\r\n\t]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD');
}
