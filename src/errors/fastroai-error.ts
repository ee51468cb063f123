import type { ErrorCode } from './error-code';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.FastroAIError');

/**
 * Base class of every error fastroai raises.
 *
 * `name` is a constant (minifiers rename classes), `code` is a stable string, and
 * `isInstance` works across copies of the package (it checks a global symbol marker).
 */
export class FastroAIError extends Error {
  private readonly [marker] = true;
  override readonly name: string = 'FastroAIError';
  readonly code: ErrorCode = 'fastroai:error';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /** True when `error` is a fastroai error, from any copy of the package. */
  static isInstance(error: unknown): error is FastroAIError {
    return hasMarker(error, marker);
  }
}
