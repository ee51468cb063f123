export type { ErrorCode } from './error-code';
export { FastroAIError, type FastroAIErrorJSON } from './fastroai-error';
export { PipelineValidationError } from './pipeline-validation-error';
export { StepExecutionError } from './step-execution-error';
export { CostBudgetExceededError } from './cost-budget-exceeded-error';
export { DispatchSkippedError } from './dispatch-skipped-error';
export { StepTimeoutError } from './step-timeout-error';
export { PipelineAbortedError } from './pipeline-aborted-error';
export { RunNotFoundError } from './run-not-found-error';
export { RunExistsError } from './run-exists-error';
export { RunLockedError } from './run-locked-error';
export { RunLeaseLostError } from './run-lease-lost-error';
export { StoreUnavailableError } from './store-unavailable-error';
export { OutputNotStorableError } from './output-not-storable-error';
export { WorkerLostError } from './worker-lost-error';
export { ErrorCategory } from './error-category';
// toError and describeThrown are internal helpers: not exported from the package root.
