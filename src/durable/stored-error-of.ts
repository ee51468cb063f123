import { isReadableError } from '../errors/describe-thrown';
import { StepExecutionError, toError } from '../errors/step-execution-error';
import type { StoredError } from '../store/run-store';

/** An error in its stored form: the step's own error (not the StepExecutionError wrapping it). */
export function storedErrorOf(thrown: unknown): StoredError {
  const error = StepExecutionError.isInstance(thrown) ? thrown.originalError : toError(thrown);
  const code = (error as { code?: unknown }).code;
  return {
    name: safeString(() => error.name) ?? 'Error',
    ...(typeof code === 'string' ? { code } : {}),
    message: isReadableError(error) ? error.message : 'an error whose message cannot be read',
  };
}

function safeString(read: () => unknown): string | undefined {
  try {
    const value = read();
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
