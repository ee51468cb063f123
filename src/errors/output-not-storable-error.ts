import { FastroAIError } from './fastroai-error';
import { hasMarker } from './has-marker';

const marker = Symbol.for('fastroai.error.OutputNotStorableError');

/**
 * A value cannot be encoded for the run store: a class instance, a function, a symbol or a
 * cycle. `path` is where (`$.entities[2]`); `stepId` is undefined for the run's input. Never retried.
 */
export class OutputNotStorableError extends FastroAIError {
  private readonly [marker] = true;
  override readonly name = 'OutputNotStorableError';
  override readonly code = 'fastroai:output-not-storable';
  readonly stepId: string | undefined;
  readonly path: string;

  constructor(stepId: string | undefined, path: string, problem: string) {
    const owner = stepId === undefined ? 'The run input' : `The output of step '${stepId}'`;
    super(`${owner} cannot be stored: ${path} ${problem}`);
    this.stepId = stepId;
    this.path = path;
  }

  static override isInstance(error: unknown): error is OutputNotStorableError {
    return hasMarker(error, marker);
  }
}
