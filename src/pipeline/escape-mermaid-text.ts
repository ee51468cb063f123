/**
 * Characters that can end or change a Mermaid statement or label: quotes and brackets of
 * node shapes, `:` and `;` of gantt tasks, `#` of entity codes, `%` of `%%` comments, `<`, `>`
 * and `&` of HTML labels, the backtick of markdown strings, `\` and every control character
 * and line break.
 */
const SPECIAL = /["#%&;:<>[\]`\\\u0000-\u001f\u007f\u2028\u2029]/g;

/**
 * Writes text from a run (a step id, a pipeline name) so Mermaid shows it as it is and
 * nothing in it can end the label or the line: each special character becomes an entity code
 * (`"` → `#quot;`, a newline → `#10;`, `:` → `#58;`), which Mermaid turns back into the
 * character when it draws the chart.
 *
 * @see https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters
 * @example
 * escapeMermaidText('say "hi"\nnow'); // 'say #quot;hi#quot;#10;now'
 */
export function escapeMermaidText(text: string): string {
  return text.replace(SPECIAL, (char) => (char === '"' ? '#quot;' : `#${char.charCodeAt(0)};`));
}
