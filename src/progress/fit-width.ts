/**
 * Cuts `line` to at most `width` characters (code points), ending with `…` when cut. The live
 * view never lets a line wrap: a wrapped line takes two rows, and redrawing in place (moving
 * the cursor up one row per line) would then leave stale rows behind.
 */
export function fitWidth(line: string, width: number): string {
  const chars = Array.from(line);
  if (chars.length <= width) return line;
  return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
}
