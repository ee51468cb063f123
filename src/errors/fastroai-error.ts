import type { ErrorCode } from './error-code';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.FastroAIError');

/** What `JSON.stringify` writes for a fastroai error (API.md §8). */
export interface FastroAIErrorJSON {
  name: string;
  code: ErrorCode;
  message: string;
  /** The step the error is about, when it has one. */
  stepId?: string;
  /** What the error wraps: its name and message (and code, for a fastroai error). */
  cause?: { name: string; message: string; code?: string };
}

/**
 * Base class of every error fastroai raises.
 *
 * `name` is a constant (minifiers rename classes), `code` is a stable string, and
 * `isInstance` works across copies of the package (it checks a global symbol marker).
 * `JSON.stringify` writes its name, code, message, step id and cause (see {@link toJSON}).
 */
export class FastroAIError extends Error {
  private readonly [marker] = true;
  override readonly name: string = 'FastroAIError';
  readonly code: ErrorCode = 'fastroai:error';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /**
   * The error as plain data for logs, stores and queues: `name`, `code`, `message`, `stepId`
   * when it has one, and its cause's `name` and `message`. Never throws, whatever the cause
   * (a getter that throws, a revoked Proxy, a value that is not an Error).
   *
   * @example
   * JSON.stringify(result.errors);
   * // {"fetch":{"name":"StepExecutionError","code":"fastroai:step-execution","message":"Step 'fetch' failed: HTTP 500","stepId":"fetch","cause":{"name":"Error","message":"HTTP 500"}}}
   */
  toJSON(): FastroAIErrorJSON {
    const json: FastroAIErrorJSON = { name: this.name, code: this.code, message: this.message };
    const stepId = (this as { stepId?: unknown }).stepId;
    if (typeof stepId === 'string') json.stepId = stepId;
    if (this.cause !== undefined) json.cause = describeCause(this.cause);
    return json;
  }

  /** True when `error` is a fastroai error, from any copy of the package. */
  static isInstance(error: unknown): error is FastroAIError {
    return hasMarker(error, marker);
  }
}

/** A cause as `{ name, message }`, read defensively: reading a hostile value must not throw. */
function describeCause(cause: unknown): { name: string; message: string; code?: string } {
  if ((typeof cause !== 'object' && typeof cause !== 'function') || cause === null) {
    return { name: typeof cause, message: safeString(() => String(cause)) ?? '' };
  }
  const name = safeString(() => (cause as Error).name) ?? safeString(() => cause.constructor.name) ?? 'unknown';
  const message = safeString(() => (cause as Error).message) ?? '(its message could not be read)';
  const code = safeString(() => (cause as { code?: unknown }).code);
  return code === undefined ? { name, message } : { name, message, code };
}

/** `read()` when it returns a string; undefined when it returns anything else or throws. */
function safeString(read: () => unknown): string | undefined {
  try {
    const value = read();
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
