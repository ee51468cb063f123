import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.DispatchSkippedError');

/**
 * Raise it (or a subclass) from an agent's `onBeforeDispatch` to refuse a call (circuit
 * breaker open, kill switch, rate limit). It propagates at once and is never retried.
 */
export class DispatchSkippedError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name: string = 'DispatchSkippedError';
  override readonly code = 'fastroai:dispatch-skipped';

  constructor(message = 'Dispatch skipped', options?: { cause?: unknown }) {
    super(message, options);
  }

  static override isInstance(error: unknown): error is DispatchSkippedError {
    return hasMarker(error, marker);
  }
}
