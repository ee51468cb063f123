import { isReadableError } from '../errors/describe-thrown';
import { FastroAIError } from '../errors/fastroai-error';
import { StepExecutionError, toError } from '../errors/step-execution-error';
import type { StoredError } from '../store/run-store';

/**
 * An error in its stored form: the step's own error (not the StepExecutionError wrapping it).
 *
 * @param stepId the step whose failure this is: a StepExecutionError of ANOTHER step (a nested
 *   pipeline's, thrown by this step) is kept as one, so that it comes back as one (API.md §4:
 *   re-thrown as it is), with its step id and its original error's name, code and message
 */
export function storedErrorOf(thrown: unknown, stepId?: string): StoredError {
  if (stepId !== undefined && StepExecutionError.isInstance(thrown) && thrown.stepId !== stepId) return storedNestedFailure(thrown);
  const error = StepExecutionError.isInstance(thrown) ? thrown.originalError : toError(thrown);
  const code = (error as { code?: unknown }).code;
  const stored: StoredError = {
    name: safeString(() => error.name) ?? 'Error',
    ...(typeof code === 'string' ? { code } : {}),
    message: isReadableError(error) ? error.message : 'an error whose message cannot be read',
  };
  // A fastroai error keeps its fields (none, for some): it comes back as its class.
  if (FastroAIError.isInstance(error)) stored.details = detailsOf(error);
  return stored;
}

/**
 * A nested pipeline's StepExecutionError thrown by a step: its step id, and its original error
 * (name, message, code, and a fastroai error's own fields as JSON) in `details` (see storedErrorToError).
 */
function storedNestedFailure(error: StepExecutionError): StoredError {
  const original = storedErrorOf(error.originalError);
  const details: NonNullable<StoredError['details']> = { stepId: error.stepId, originalName: original.name, originalMessage: original.message };
  if (original.code !== undefined) details.originalCode = original.code;
  if (original.details !== undefined) details.originalDetails = JSON.stringify(original.details);
  return { name: 'StepExecutionError', code: error.code, message: `Step '${error.stepId}' failed: ${original.message}`, details };
}

/** A fastroai error's own fields of plain values: what it is rebuilt from. */
function detailsOf(error: FastroAIError): NonNullable<StoredError['details']> {
  const details: NonNullable<StoredError['details']> = {};
  for (const key of Object.keys(error)) {
    if (key === 'name' || key === 'code' || key === 'message') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      details[key] = value;
    }
  }
  return details;
}

function safeString(read: () => unknown): string | undefined {
  try {
    const value = read();
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
