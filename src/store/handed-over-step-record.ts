import type { StepUsageFields } from '../usage/step-usage';
import type { EncodedValue, StepRecord, StepRecordStatus, StoredError } from './run-store';

/**
 * A step record the engine built and handed to its store: the run reads it afterwards, never
 * changes it, and shares none of its parts (usage, error) with anything that does. So a store
 * that keeps records in memory may keep its parts as they are (MemoryRunStore keeps its usage
 * object, see StepRecordColumns) instead of copies, and no `Object.freeze`, which costs more
 * than a copy. Internal: only the engine makes one. A store that hands the records it is given
 * to another store must not change them.
 */
export class HandedOverStepRecord implements StepRecord {
  /* Declared, not defined: absent unless set (a record of a failed step has no `output` key). */
  declare output?: EncodedValue;
  declare error?: StoredError;
  declare workerId?: string;

  constructor(
    readonly stepId: string,
    readonly generation: number,
    readonly status: StepRecordStatus,
    readonly usage: StepUsageFields,
    readonly attempts: number,
    readonly startedAt: number,
    readonly endedAt: number,
  ) {}
}
