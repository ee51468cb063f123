import { ChatResponse, type ChatResponseFields } from '../agent/chat-response';
import type { AgentRunOptions, RunnableAgent } from '../agent/runnable-agent';

/** One scripted answer: a response (fields or object), an error to throw, or a function of the message. */
export type MockReply<O> =
  | Partial<ChatResponseFields<O>>
  | ChatResponse<O>
  | Error
  | ((message: string, options: AgentRunOptions) => Partial<ChatResponseFields<O>> | ChatResponse<O> | Promise<ChatResponse<O>>);

/** A {@link RunnableAgent} for tests that answers from a script and records its calls. */
export interface MockAgent<O> extends RunnableAgent<O> {
  /** Every call so far: the message and the options `ctx.run` passed. */
  readonly calls: Array<{ message: string; options: AgentRunOptions }>;
}

/**
 * A scripted agent for tests: each call takes the next reply (the last one repeats).
 * A reply may set `delayMs` to answer after a while; the call rejects when its signal aborts.
 *
 * An `Error` reply is thrown as the agent's failure; `ctx.run` retries it only when it is
 * transient (give it an HTTP `status` such as 429 or 503, or a network `code`: API.md §2).
 *
 * @example
 * const rateLimited = Object.assign(new Error('rate limited'), { status: 429 });
 * const agent = createMockAgent([rateLimited, { output: 'billing', costMicrocents: 250 }]);
 */
export function createMockAgent<O = string>(replies: Array<MockReply<O> & { delayMs?: number }>): MockAgent<O> {
  if (replies.length === 0) throw new TypeError('createMockAgent needs at least one reply');
  const calls: Array<{ message: string; options: AgentRunOptions }> = [];
  return {
    calls,
    async run(message: string, options: AgentRunOptions = {}): Promise<ChatResponse<O>> {
      const reply = replies[Math.min(calls.length, replies.length - 1)];
      calls.push({ message, options });
      const delayMs = (reply as { delayMs?: number }).delayMs;
      if (delayMs !== undefined) await delay(delayMs, options.signal);
      if (reply instanceof Error) throw reply;
      if (reply instanceof ChatResponse) return reply;
      const fields = typeof reply === 'function' ? await reply(message, options) : reply;
      if (fields instanceof ChatResponse) return fields;
      const output = (fields.output ?? fields.content ?? `mock answer to: ${message}`) as O;
      return new ChatResponse<O>({ ...fields, output, content: fields.content ?? String(output) });
    },
  };
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
