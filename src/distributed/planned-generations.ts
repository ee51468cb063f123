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
  const generations: unknown = data.generations;
  if (generations === undefined) return FIRST_GENERATIONS;
  if (typeof generations !== 'object' || generations === null || Array.isArray(generations)) throw malformed(data);
  const byStep = new Map<string, number>();
  for (const [stepId, generation] of Object.entries(generations)) {
    if (!Number.isSafeInteger(generation) || (generation as number) < 1) throw malformed(data);
    byStep.set(stepId, generation as number);
  }
  return (stepId) => byStep.get(stepId) ?? 1;
}

function malformed(data: StepJobData): PipelineValidationError {
  return new PipelineValidationError(
    `The job of step '${data.stepId}' of run '${data.runId}' carries malformed generations (${JSON.stringify(data.generations)}): expected positive integers by step id`,
  );
}
