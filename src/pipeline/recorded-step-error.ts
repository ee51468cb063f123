import { StepExecutionError } from '../errors/step-execution-error';
import type { StepRecord } from '../store/run-store';
import { storedErrorToError } from '../store/stored-error-to-error';
import type { StepUsage } from '../usage/step-usage';

/**
 * The error of a step recorded `failed` (by an earlier run, or by another writer first), as the
 * run reports it: a nested pipeline's StepExecutionError the step threw comes back as it is.
 */
export function recordedStepError(record: StepRecord, usage: StepUsage): StepExecutionError {
  const stored = record.error ?? { name: 'Error', message: `step '${record.stepId}' failed` };
  const error = storedErrorToError(stored);
  if (StepExecutionError.isInstance(error)) return new StepExecutionError(error.stepId, error.originalError, usage);
  return new StepExecutionError(record.stepId, error, usage);
}
