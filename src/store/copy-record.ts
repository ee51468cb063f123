import type { StepUsageFields } from '../usage/step-usage';
import type { RunRecord, StoredError } from './run-store';

/** A copy of a run record that shares nothing mutable with it (encoded values are strings). */
export function copyRunRecord(run: RunRecord): RunRecord {
  const copy = { ...run };
  if (run.error !== undefined) copy.error = copyError(run.error);
  return copy;
}

/** A copy of a usage record. */
export function copyUsage(usage: StepUsageFields): StepUsageFields {
  return {
    model: usage.model,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    inputAudioTokens: usage.inputAudioTokens,
    outputAudioTokens: usage.outputAudioTokens,
    cacheAudioReadTokens: usage.cacheAudioReadTokens,
    requestCount: usage.requestCount,
    toolCallCount: usage.toolCallCount,
    costMicrocents: usage.costMicrocents,
    processingTimeMs: usage.processingTimeMs,
  };
}

/** A copy of a stored error. */
export function copyError(error: StoredError): StoredError {
  const copy: StoredError = error.code === undefined ? { name: error.name, message: error.message } : { name: error.name, code: error.code, message: error.message };
  if (error.details !== undefined) copy.details = { ...error.details };
  return copy;
}

