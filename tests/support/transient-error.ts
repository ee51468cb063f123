/**
 * An error `ctx.run` retries: a transient one (HTTP 503 on the error, as a provider's SDK
 * reports it; API.md §2 retries a model call only when its error is transient). A plain
 * `Error` is not classified, and fails a call at once.
 */
export function transientError(message: string): Error {
  return Object.assign(new Error(message), { status: 503 });
}
