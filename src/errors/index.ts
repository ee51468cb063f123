export type { ErrorCode } from './error-code';
export { FastroAIError } from './fastroai-error';
export { PipelineValidationError } from './pipeline-validation-error';
export { StepExecutionError } from './step-execution-error';
export { CostBudgetExceededError } from './cost-budget-exceeded-error';
export { DispatchSkippedError } from './dispatch-skipped-error';
export { StepTimeoutError } from './step-timeout-error';
export { PipelineAbortedError } from './pipeline-aborted-error';
export { ErrorCategory } from './error-category';
// toError and describeThrown are internal helpers: not exported from the package root.
