import { checkOptionKeys } from '../config/check-option-keys';
import { MAX_TIMER_MS } from '../config/max-timer-seconds';
import type { Tool, ToolExecutionOptions } from 'ai';
import { describeThrown } from '../errors/describe-thrown';

/** Options of {@link safeTool}. */
export interface SafeToolOptions {
  /**
   * Seconds one attempt of the tool's `execute` may take; then its `abortSignal` aborts and the
   * attempt counts as timed out. `0` means no bound.
   * @default 30
   */
  timeout?: number;
  /**
   * How many attempts `execute` gets, as the original's `max_retries` (3 means three attempts:
   * the first and two retries). Attempt `k` (0-based) that failed waits `0.1 × 2^k` seconds.
   * @default 3
   */
  maxRetries?: number;
  /** The tool's result when the last attempt timed out. @default 'Tool timed out after N attempts' */
  onTimeout?: string;
  /** The tool's result when the last attempt threw; `{error}` is replaced by its message. @default 'Tool failed: {error}' */
  onError?: string;
}

/** The longest delay Node's timers honour (2^31-1 ms); a longer one fires at once. */
const DEFAULT_TIMEOUT_SECONDS = 30;
const DEFAULT_ATTEMPTS = 3;
const BACKOFF_BASE_SECONDS = 0.1;

const SAFE_TOOL_OPTION_KEYS: readonly (keyof SafeToolOptions)[] = ['timeout', 'maxRetries', 'onTimeout', 'onError'];

/**
 * Makes an AI SDK tool safe for a conversation (the original's `@safe_tool`): a tool that
 * hangs or fails does not end the model's tool loop; the model is told, as the tool's result,
 * and can answer gracefully.
 *
 * Each attempt of `execute` is bounded by `timeout` (the `abortSignal` the attempt receives
 * aborts; an attempt that ignores it is abandoned all the same), and a failed or timed-out
 * attempt is retried after `0.1 × 2^attempt` seconds, `maxRetries` attempts in all. After the
 * last one, the tool returns `onTimeout` or `onError` instead of throwing. The run's own
 * signal (the `abortSignal` the AI SDK passes, aborted when the step times out or the run is
 * cancelled) still cancels it at once: the tool then rejects with the signal's reason, with
 * no retry and no message for the model.
 *
 * A tool whose `execute` yields preliminary results (an async iterable) is run to its end in
 * each attempt; its last value is the result.
 *
 * @param tool an AI SDK tool with an `execute` function (`tool({...})`)
 * @returns a copy of the tool whose `execute` never throws because of the tool itself
 * @example
 * const weather = safeTool(tool({ description, inputSchema, execute: fetchWeather }), {
 *   timeout: 5,
 *   onError: 'The weather service is unavailable ({error}). Say so.',
 * });
 * new FastroAgent({ tools: { weather } });
 */
export function safeTool<T extends Tool>(tool: T, options: SafeToolOptions = {}): T {
  if (typeof tool !== 'object' || tool === null || typeof (tool as { execute?: unknown }).execute !== 'function') {
    throw new TypeError(`safeTool expects an AI SDK tool with an execute function, got ${describe(tool)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`safeTool options must be an object, got ${describe(options)}`);
  }
  checkOptionKeys('safeTool options', options, SAFE_TOOL_OPTION_KEYS, (message) => new TypeError(message));
  const timeoutMs = checkTimeout(options.timeout);
  const attempts = checkAttempts(options.maxRetries);
  const onTimeout = checkMessage('onTimeout', options.onTimeout) ?? `Tool timed out after ${attempts} attempts`;
  const onError = checkMessage('onError', options.onError) ?? 'Tool failed: {error}';
  const execute = tool.execute as (input: unknown, options: ToolExecutionOptions) => unknown;

  const safeExecute = async (input: unknown, callOptions: ToolExecutionOptions): Promise<unknown> => {
    const runSignal = callOptions?.abortSignal;
    for (let attempt = 0; ; attempt++) {
      const outcome = await runAttempt((signal) => execute(input, { ...callOptions, abortSignal: signal }), runSignal, timeoutMs);
      if (outcome.kind === 'done') return outcome.value;
      if (outcome.kind === 'cancelled') throw outcome.reason;
      if (attempt + 1 >= attempts) {
        return outcome.kind === 'timeout' ? onTimeout : onError.split('{error}').join(outcome.message);
      }
      await backoff(Math.min(BACKOFF_BASE_SECONDS * 2 ** attempt * 1000, MAX_TIMER_MS), runSignal);
    }
  };
  return { ...tool, execute: safeExecute } as T;
}

/** How one attempt ended. */
type AttemptOutcome =
  | { kind: 'done'; value: unknown }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string }
  | { kind: 'cancelled'; reason: unknown };

/**
 * Runs one attempt with its own signal (the run's, and the attempt's timeout). Settles at the
 * first of: the tool's result, the timeout, the run's signal; a tool that ignores its signal
 * is abandoned (its late result or error is ignored, never unhandled).
 */
function runAttempt(start: (signal: AbortSignal) => unknown, runSignal: AbortSignal | undefined, timeoutMs: number): Promise<AttemptOutcome> {
  return new Promise<AttemptOutcome>((resolve) => {
    const controller = new AbortController();
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onRunAbort = () => {
      finish({ kind: 'cancelled', reason: runSignal?.reason });
      controller.abort(runSignal?.reason);
    };
    const finish = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      runSignal?.removeEventListener('abort', onRunAbort);
      resolve(outcome);
    };
    if (runSignal?.aborted) return onRunAbort();
    runSignal?.addEventListener('abort', onRunAbort, { once: true });
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        controller.abort(new DOMException(`The tool's attempt timed out after ${timeoutMs / 1000} s`, 'TimeoutError'));
      }, timeoutMs);
    }
    let result: unknown;
    try {
      result = start(controller.signal);
    } catch (error) {
      return finish(failed(error));
    }
    finalValue(result).then(
      (value) => finish({ kind: 'done', value }),
      (error: unknown) => finish(failed(error)),
    );
  });
}

/** The value of what `execute` returned: a value, a promise, or an async iterable (its last value). */
async function finalValue(result: unknown): Promise<unknown> {
  const iterable = result as AsyncIterable<unknown> | null | undefined;
  if (iterable != null && typeof iterable[Symbol.asyncIterator] === 'function' && typeof (result as PromiseLike<unknown>).then !== 'function') {
    let last: unknown;
    for await (const value of iterable) last = value;
    return last;
  }
  return await result;
}

function failed(error: unknown): AttemptOutcome {
  try {
    return { kind: 'error', message: error instanceof Error ? error.message : describeThrown(error) };
  } catch {
    return { kind: 'error', message: 'an error that cannot be described' };
  }
}

/** Waits `ms`; rejects with the run's reason as soon as its signal aborts. */
function backoff(ms: number, runSignal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (runSignal?.aborted) return reject(runSignal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(runSignal?.reason);
    };
    const timer = setTimeout(() => {
      runSignal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    runSignal?.addEventListener('abort', onAbort, { once: true });
  });
}

function checkTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`safeTool timeout must be a number of seconds >= 0 (0: no bound), got ${describe(value)}`);
  }
  if (value * 1000 > MAX_TIMER_MS) {
    throw new TypeError(`safeTool timeout must be at most ${MAX_TIMER_MS / 1000} s (2^31-1 ms, the longest timer Node honours), got ${value}`);
  }
  return value * 1000;
}

function checkAttempts(value: unknown): number {
  if (value === undefined) return DEFAULT_ATTEMPTS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`safeTool maxRetries (the number of attempts) must be an integer >= 1, got ${describe(value)}`);
  }
  return value;
}

function checkMessage(name: 'onTimeout' | 'onError', value: unknown): string | undefined {
  if (value !== undefined && typeof value !== 'string') {
    throw new TypeError(`safeTool ${name} must be a string (the tool's result for the model), got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object without an execute function';
  return `${typeof value} ${String(value)}`;
}
