import { AgentTimeoutError } from '../agent/agent-timeout-error';
import { CostBudgetExceededError } from '../errors/cost-budget-exceeded-error';
import { DispatchSkippedError } from '../errors/dispatch-skipped-error';
import { OutputNotStorableError } from '../errors/output-not-storable-error';
import { StepExecutionError } from '../errors/step-execution-error';
import { StepTimeoutError } from '../errors/step-timeout-error';
import { WorkerLostError } from '../errors/worker-lost-error';
import type { StoredError } from './run-store';

/** A key of `details` in records of development builds (a shorter message, no longer used): not a field of the error. */
const LEGACY_WITHIN_STEP = 'messageWithinStep';

type Details = NonNullable<StoredError['details']>;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const optionalText = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/**
 * The fastroai errors a step can fail with, rebuilt from their code and details (a worker's
 * error on the caller, a restored failure on resume). Their message is the stored one.
 */
const REBUILD: Record<string, (details: Details, message: string) => Error> = {
  'fastroai:step-timeout': (d) => new StepTimeoutError(text(d.stepId), count(d.timeoutSeconds), count(d.attempt)),
  'fastroai:cost-budget-exceeded': (d) => new CostBudgetExceededError(count(d.budgetMicrocents), count(d.actualMicrocents), optionalText(d.stepId)),
  'fastroai:dispatch-skipped': (_, message) => new DispatchSkippedError(message),
  'fastroai:output-not-storable': (d) => new OutputNotStorableError(optionalText(d.stepId), text(d.path), ''),
  'fastroai:worker-lost': (d) => new WorkerLostError(text(d.stepId)),
  'fastroai:agent-timeout': (d) => new AgentTimeoutError(text(d.model), count(d.timeoutSeconds)),
};

/** The code of a StepExecutionError: stored for a nested pipeline's failure that a step threw (see storedErrorOf). */
const STEP_EXECUTION_CODE = 'fastroai:step-execution';

/** A nested pipeline's StepExecutionError, from its step id and its original error's name, code and message. */
function nestedFailureOf(details: Details): StepExecutionError {
  const original: StoredError = { name: text(details.originalName) || 'Error', message: text(details.originalMessage) };
  const code = optionalText(details.originalCode);
  if (code !== undefined) original.code = code;
  const originalDetails = detailsFromJson(details.originalDetails);
  if (originalDetails !== undefined) original.details = originalDetails;
  return new StepExecutionError(text(details.stepId), storedErrorToError(original));
}

/** A fastroai error's fields kept as JSON (see storedNestedFailure); undefined when absent or not an object of plain values. */
function detailsFromJson(json: unknown): Details | undefined {
  if (typeof json !== 'string') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const details: Details = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') details[key] = value;
  }
  return details;
}

/**
 * An Error from its stored form (name, code and message survive the store and the queue). A
 * fastroai error stored with its details comes back as its class, with its fields; any other
 * is an `Error` with the stored name and code.
 */
export function storedErrorToError(stored: StoredError): Error {
  // The nested form has its original's message (another StepExecutionError is decoded as any error is).
  if (stored.code === STEP_EXECUTION_CODE && typeof stored.details?.originalMessage === 'string') return nestedFailureOf(stored.details);
  const rebuild = stored.code === undefined || stored.details === undefined ? undefined : REBUILD[stored.code];
  const error = rebuild === undefined ? new Error(stored.message) : rebuild(stored.details!, stored.message);
  if (rebuild !== undefined) {
    for (const [key, value] of Object.entries(stored.details!)) {
      if (key !== LEGACY_WITHIN_STEP && !(key in error)) Object.defineProperty(error, key, { value, enumerable: true, configurable: true, writable: true });
    }
    Object.defineProperty(error, 'message', { value: stored.message, enumerable: false, configurable: true, writable: true });
    // A subclass of the class (a user's `CircuitOpenError extends DispatchSkippedError`) keeps its name.
    if (typeof stored.name === 'string' && stored.name !== '' && error.name !== stored.name) Object.defineProperty(error, 'name', { value: stored.name, enumerable: false, configurable: true, writable: true });
    return error;
  }
  Object.defineProperty(error, 'name', { value: stored.name, enumerable: false, configurable: true, writable: true });
  if (stored.code !== undefined) Object.defineProperty(error, 'code', { value: stored.code, enumerable: true, configurable: true, writable: true });
  return error;
}
