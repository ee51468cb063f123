/** Coarse classes of failure, for retry policies and dashboards. */
export enum ErrorCategory {
  TRANSIENT = 'transient',
  PERMANENT = 'permanent',
  RESOURCE_EXHAUSTION = 'resource_exhaustion',
  UNKNOWN = 'unknown',
}
