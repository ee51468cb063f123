import { APICallError, RetryError } from 'ai';

/**
 * How long the server asked to wait before the next request, from the failed response's
 * `retry-after-ms` (milliseconds) or `retry-after` (seconds, or an HTTP date) header; `undefined`
 * when it did not ask (or asked for something unreadable or negative).
 *
 * Reads an AI SDK `APICallError` (directly, as the cause, or as a `RetryError`'s last error) or
 * any error with `responseHeaders` / `headers` as a plain record.
 *
 * @param nowMs the current time, for an HTTP-date header. @default Date.now()
 */
export function retryAfterSeconds(error: unknown, nowMs: number = Date.now()): number | undefined {
  const headers = headersOf(error);
  if (headers === undefined) return undefined;
  const ms = headerValue(headers, 'retry-after-ms');
  if (ms !== undefined) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value / 1000;
  }
  const after = headerValue(headers, 'retry-after');
  if (after === undefined) return undefined;
  const trimmed = after.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - nowMs) / 1000);
}

function headersOf(error: unknown): Record<string, unknown> | undefined {
  if (RetryError.isInstance(error)) return headersOf(error.lastError);
  if (APICallError.isInstance(error)) return error.responseHeaders ?? headersOf(error.cause);
  if (typeof error !== 'object' || error === null) return undefined;
  const fields = error as { responseHeaders?: unknown; headers?: unknown; cause?: unknown };
  const headers = fields.responseHeaders ?? fields.headers;
  if (typeof headers === 'object' && headers !== null) return headers as Record<string, unknown>;
  return APICallError.isInstance(fields.cause) ? headersOf(fields.cause) : undefined;
}

/** A header's value, its name matched without case (the SDK lowercases, other clients may not). */
function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as unknown as Headers).get(name);
    return value ?? undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}
