/**
 * Stable codes of every fastroai error. They survive JSON (logs, queue payloads), so code
 * outside this process can tell errors apart without `instanceof`.
 */
export type ErrorCode =
  | 'fastroai:error'
  | 'fastroai:pipeline-validation'
  | 'fastroai:step-execution'
  | 'fastroai:cost-budget-exceeded'
  | 'fastroai:dispatch-skipped'
  | 'fastroai:step-timeout'
  | 'fastroai:pipeline-aborted'
  | 'fastroai:agent-timeout'
  | 'fastroai:run-not-found'
  | 'fastroai:run-exists'
  | 'fastroai:run-locked'
  | 'fastroai:run-lease-lost'
  | 'fastroai:store-unavailable'
  | 'fastroai:output-not-storable'
  | 'fastroai:worker-lost';
