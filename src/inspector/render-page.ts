import { escapeHtml } from './escape-html';

/** What every page is made of. */
export interface PageParts {
  /** The page title (escaped here). */
  title: string;
  /** The body's HTML, already escaped where it holds run values. */
  body: string;
  /** `data-*` attributes of `<body>` for the page script (values escaped here). */
  data?: Record<string, string>;
}

/**
 * The HTML document around a page. The stylesheet and the script are the package's own files
 * (`/assets/…`), never inline, so the Content-Security-Policy can forbid inline script.
 */
export function renderPage(parts: PageParts): string {
  const data = Object.entries(parts.data ?? {})
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join('');
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(parts.title)} · fastroai inspector</title>` +
    '<link rel="stylesheet" href="/assets/inspector.css">' +
    '<script src="/assets/inspector.js" defer></script>' +
    `</head><body${data}>` +
    '<header class="top"><a href="/" class="brand">fastroai inspector</a></header>' +
    `<main>${parts.body}</main></body></html>\n`
  );
}
