import type { ModelMessage } from 'ai';
import type { Tracer } from '../tracing/tracer';
import type { ChatResponse } from './chat-response';

/** What `ctx.run` hands to an agent. */
export interface AgentRunOptions {
  deps?: unknown;
  tracer?: Tracer;
  /** Aborted when the call's or the step's timeout fires, or the run fails or is cancelled. */
  signal?: AbortSignal;
  messageHistory?: ModelMessage[];
}

/**
 * Anything `ctx.run` can call. `FastroAgent` implements it; tests may pass any object.
 *
 * `onBeforeDispatch` runs before every attempt (throw `DispatchSkippedError` to refuse the
 * call); `onAfterDispatch` after every attempt, with the attempt's error or `undefined`.
 */
export interface RunnableAgent<O = string> {
  run(message: string, options?: AgentRunOptions): Promise<ChatResponse<O>>;
  onBeforeDispatch?: () => Promise<void>;
  onAfterDispatch?: (error: unknown | undefined) => Promise<void>;
}
