import { readStepMetadata } from '../../decorators/metadata';
import { defaultStepId } from '../steps/default-step-id';
import type { StepClass } from '../steps/base-step';

/** The step id of an id or a step class (`@Step({ id })`, else the class's default id). */
export function stepIdOf(stepOrId: string | StepClass): string {
  if (typeof stepOrId === 'string') return stepOrId;
  if (typeof stepOrId === 'function') return readStepMetadata(stepOrId)?.id ?? defaultStepId(stepOrId.name);
  throw new TypeError(`Expected a step id or a step class, got ${stepOrId === null ? 'null' : typeof stepOrId}`);
}
