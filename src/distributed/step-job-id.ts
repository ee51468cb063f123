/**
 * The BullMQ job id of one step of one run: `${runId}-${stepId}-${generation}`, the same in
 * every process, so a caller that re-enqueues a step after a crash adopts the job in flight
 * (BullMQ does not add a job whose id exists).
 *
 * BullMQ job ids may not contain `:` and may not be all digits. Both ids are percent-encoded
 * where needed to keep the id valid and one-to-one: `%` and `:` in either id, and `-` in the
 * step id (so the last two `-` are always the separators), e.g. step `fetch:user-a` of run
 * `r1` at generation 2 is `r1-fetch%3Auser%2Da-2`. Ids without those characters stay as they are.
 */
export function stepJobId(runId: string, stepId: string, generation: number): string {
  return `${encodePart(runId, RUN_ID_RESERVED)}-${encodePart(stepId, STEP_ID_RESERVED)}-${generation}`;
}

const RUN_ID_RESERVED = /[%:]/g;
const STEP_ID_RESERVED = /[%:-]/g;

function encodePart(id: string, reserved: RegExp): string {
  return id.replace(reserved, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The parts of a step's job id ({@link stepJobId}). */
export interface StepJobKey {
  runId: string;
  stepId: string;
  generation: number;
}

/**
 * The run, step and generation of a job id made by {@link stepJobId}, or undefined when it is
 * not one: the last two `-` are the separators (a step id's own are encoded), the run id may
 * hold more.
 */
export function parseStepJobId(jobId: string): StepJobKey | undefined {
  const last = jobId.lastIndexOf('-');
  const middle = last > 0 ? jobId.lastIndexOf('-', last - 1) : -1;
  if (middle <= 0) return undefined;
  const generation = Number(jobId.slice(last + 1));
  if (!Number.isInteger(generation) || generation < 1) return undefined;
  try {
    return { runId: decodeURIComponent(jobId.slice(0, middle)), stepId: decodeURIComponent(jobId.slice(middle + 1, last)), generation };
  } catch {
    return undefined; // a stray `%`: not an id of ours
  }
}
