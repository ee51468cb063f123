import { FastroAIError } from '../errors/fastroai-error';
import { hasMarker } from '../errors/has-marker';

const marker = Symbol.for('fastroai.error.AgentTimeoutError');

/**
 * A model call took longer than its agent's own `timeout`; the HTTP request was aborted.
 * Under `ctx.run` it is an ordinary failed attempt: retried when the step allows retries.
 * (A step's or `ctx.run`'s `timeout` raises `StepTimeoutError` instead.)
 */
export class AgentTimeoutError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'AgentTimeoutError';
  override readonly code = 'fastroai:agent-timeout';
  readonly timeoutSeconds: number;
  /** The model the agent called, as configured (`'openai:gpt-4o'`). */
  readonly model: string;

  constructor(model: string, timeoutSeconds: number, options?: { cause?: unknown }) {
    super(`Agent call to '${model}' timed out after ${timeoutSeconds}s`, options);
    this.timeoutSeconds = timeoutSeconds;
    this.model = model;
  }

  static override isInstance(error: unknown): error is AgentTimeoutError {
    return hasMarker(error, marker);
  }
}
