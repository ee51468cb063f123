import type { ChatResponse } from '../agent/chat-response';

const REPORTED_USAGE = Symbol.for('fastroai.reportedUsage');

/**
 * Attaches the usage a provider reported to the error of a failed call, so `ctx.run` counts
 * what the failed attempt cost. Agents call it; `ctx.run` reads it with {@link reportedUsageOf}.
 */
export function attachReportedUsage<E extends object>(error: E, usage: ChatResponse<unknown>): E {
  Object.defineProperty(error, REPORTED_USAGE, { value: usage, enumerable: false, configurable: true });
  return error;
}

/** The usage attached to a failed call's error, if any. */
export function reportedUsageOf(error: unknown): ChatResponse<unknown> | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  return (error as Record<symbol, ChatResponse<unknown> | undefined>)[REPORTED_USAGE];
}
