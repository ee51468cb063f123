const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text made safe for HTML element content and quoted attribute values: `& < > " '` become
 * entities. Every value that comes from a run (ids, names, outputs, errors: models can write
 * anything) goes through it before it reaches a page; a value that is not a string is shown as `String(value)`.
 *
 * @example escapeHtml('<img src=x onerror=alert(1)>') // '&lt;img src=x onerror=alert(1)&gt;'
 */
export function escapeHtml(text: unknown): string {
  // A store written by something else may hold a number or null where a string belongs: shown as text, never a crash.
  return String(text).replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]);
}
