import { PipelineValidationError } from '../errors/pipeline-validation-error';
import type { StepJobData } from './step-job-data';

/** The generation of each step (an ancestor of the job's step) that the job's run plans: 1 unless the job names another. */
export type PlannedGenerations = (stepId: string) => number;

/** Every step at generation 1: a run's first epoch. */
export const FIRST_GENERATIONS: PlannedGenerations = () => 1;

/**
 * The generations the job's run plans for its step's ancestors (`data.generations`; own keys
 * only: a step may be named `constructor`).
 * @throws PipelineValidationError for a job whose `generations` are not positive integers by step id
 */
export function plannedGenerationsOf(data: StepJobData): PlannedGenerations {
  if (data.generations === undefined) return FIRST_GENERATIONS;
  const byStep = generationsByStep(data.generations);
  if (byStep === undefined) throw malformed(data);
  return (stepId) => byStep.get(stepId) ?? 1;
}

/** True when two jobs of a step plan the same generations of its ancestors (job data comes from Redis: a malformed plan is another). */
export function samePlannedGenerations(theirs: StepJobData, ours: StepJobData): boolean {
  if (typeof theirs !== 'object' || theirs === null) return false;
  const a = generationsByStep(theirs.generations);
  const b = generationsByStep(ours.generations);
  if (a === undefined || b === undefined || a.size !== b.size) return false;
  for (const [stepId, generation] of a) if (b.get(stepId) !== generation) return false;
  return true;
}

/** The generations a job names, by step id (none: empty); undefined when they are not positive integers by step id. */
function generationsByStep(generations: unknown): Map<string, number> | undefined {
  const byStep = new Map<string, number>();
  if (generations === undefined) return byStep;
  if (typeof generations !== 'object' || generations === null || Array.isArray(generations)) return undefined;
  for (const [stepId, generation] of Object.entries(generations)) {
    if (!Number.isSafeInteger(generation) || (generation as number) < 1) return undefined;
    byStep.set(stepId, generation as number);
  }
  return byStep;
}

function malformed(data: StepJobData): PipelineValidationError {
  return new PipelineValidationError(
    `The job of step '${data.stepId}' of run '${data.runId}' carries malformed generations (${JSON.stringify(data.generations)}): expected positive integers by step id`,
  );
}
