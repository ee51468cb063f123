/** A GitHub-flavoured markdown table, columns padded so it also reads as plain text. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], alignRight: readonly boolean[] = []): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const pad = (text: string, column: number) => (alignRight[column] ? text.padStart(widths[column]) : text.padEnd(widths[column]));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => pad(cell ?? '', column)).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (alignRight[column] ? `${'-'.repeat(width + 1)}:` : `${'-'.repeat(width + 2)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** `value` with `digits` significant digits, thousands separated (1234.5 → "1,235"; 0.01234 → "0.0123"). */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = value === 0 ? 0 : Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
