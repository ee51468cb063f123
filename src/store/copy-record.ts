import type { StepUsageFields } from '../usage/step-usage';
import { HandedOverStepRecord } from './handed-over-step-record';
import type { RunRecord, StepRecord, StoredError } from './run-store';

/** A copy of a run record that shares nothing mutable with it (encoded values are strings). */
export function copyRunRecord(run: RunRecord): RunRecord {
  const copy = { ...run };
  if (run.error !== undefined) copy.error = copyError(run.error);
  return copy;
}

/**
 * A copy of a step record that shares nothing mutable with it. The fields are copied one by
 * one, not spread: a spread of a record whose shape varies (or of a frozen usage) leaves V8's
 * fast path, and this runs once per step of every recorded run.
 *
 * @param toKeep for what a store keeps: keep a record the engine handed over as it
 *   is (see HandedOverStepRecord), and a frozen usage (nobody can change it; the engine writes
 *   one shared frozen usage for every step that made no call). A record handed to a reader is
 *   a copy of its own, which it may change.
 */
export function copyStepRecord(record: StepRecord, toKeep = false): StepRecord {
  if (toKeep && record instanceof HandedOverStepRecord) return record;
  const copy: StepRecord = {
    stepId: record.stepId,
    generation: record.generation,
    status: record.status,
    usage: toKeep && Object.isFrozen(record.usage) ? record.usage : copyUsage(record.usage),
    attempts: record.attempts,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
  };
  if (record.output !== undefined) copy.output = record.output;
  if (record.error !== undefined) copy.error = copyError(record.error);
  if (record.workerId !== undefined) copy.workerId = record.workerId;
  return copy;
}

function copyUsage(usage: StepUsageFields): StepUsageFields {
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

function copyError(error: StoredError): StoredError {
  return error.code === undefined ? { name: error.name, message: error.message } : { name: error.name, code: error.code, message: error.message };
}

