import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

// One store for every fastroai tracer: an AsyncLocalStorage per tracer instance would add a
// per-promise cost for each one ever used (Node 20 propagates every enabled storage).
const traceIds = new AsyncLocalStorage<string>();

/**
 * The trace id a new span takes (API.md §10): the id of the fastroai span it is opened in
 * (a step inside its run, an agent call inside its step), or a new UUID outside any span.
 */
export function traceIdForSpan(): string {
  return traceIds.getStore() ?? randomUUID();
}

/** Runs `fn` as the body of a span with `traceId`: spans opened inside it take that id. */
export function runWithTraceId<T>(traceId: string, fn: () => T): T {
  return traceIds.run(traceId, fn);
}
