import { readDependsOnMetadata, readStepMetadata, type DependencyReference } from '../../decorators/metadata';
import { STEP_CONFIG_FIELDS, StepConfig, describeValue } from '../config/step-config';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { checkOptionKeys } from '../config/check-option-keys';
import { defaultStepId } from './default-step-id';

/** A step class's `@Step`/`@DependsOn` facts, validated. */
export interface StepDeclaration {
  /** `@Step({ id })`, else the class's default id (`FetchMarketStep` → `fetchMarket`). */
  readonly id: string;
  /** The config `@Step` gave; undefined when it gave no config field. */
  readonly config: StepConfig | undefined;
  /** The `@DependsOn` references as recorded (ids, classes, thunks), in source order. */
  readonly dependsOn: readonly DependencyReference[];
}

const KNOWN_OPTIONS: readonly string[] = ['id', ...STEP_CONFIG_FIELDS];

/**
 * Reads and validates what `@Step` and `@DependsOn` recorded on a class. Undefined for a
 * class with neither (a plain class used as a step).
 *
 * @throws PipelineValidationError naming the class: `@DependsOn` without `@Step`, an invalid
 *   id, an unknown option, or an invalid config value (negative timeout, fractional retries, …)
 */
export function readStepDeclaration(stepClass: Function): StepDeclaration | undefined {
  const metadata = readStepMetadata(stepClass);
  const dependsOn = readDependsOnMetadata(stepClass);
  const className = nameOfClass(stepClass);
  if (metadata === undefined) {
    if (dependsOn.length > 0) {
      throw new PipelineValidationError(`${className} has @DependsOn but no @Step: add @Step() to the class`);
    }
    return undefined;
  }
  const { id, config } = metadata;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new PipelineValidationError(`Invalid @Step options on ${className}: expected an object, got ${describeValue(config)}`);
  }
  if (id !== undefined && (typeof id !== 'string' || id === '')) {
    throw new PipelineValidationError(`Invalid @Step options on ${className}: id must be a non-empty string, got ${describeValue(id)}`);
  }
  checkOptionKeys(`Invalid @Step options on ${className}`, config, KNOWN_OPTIONS);
  let stepConfig: StepConfig | undefined;
  try {
    stepConfig = Object.values(config).some((value) => value !== undefined) ? new StepConfig(config) : undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new PipelineValidationError(`Invalid @Step options on ${className}: ${message}`, { cause: error });
  }
  const stepId = id ?? defaultStepId(stepClass.name);
  if (stepId === '') throw new PipelineValidationError(`${className} has no name to derive a step id from: give it @Step({ id })`);
  return { id: stepId, config: stepConfig, dependsOn };
}

/**
 * The id to name a step class that is not among a pipeline's steps by, in API.md's messages
 * (`depends on unknown: 'x'`, `outputStep 'x' not in steps`): the id it would take (`@Step({ id })`
 * or its derived one), or its class name when that id is another step's.
 */
export function unknownClassId(stepClass: Function, isStepId: (id: string) => boolean): string {
  const declared = readStepMetadata(stepClass)?.id;
  const id = typeof declared === 'string' && declared !== '' ? declared : defaultStepId(stepClass.name);
  return id === '' || isStepId(id) ? nameOfClass(stepClass) : id;
}

/** How a class is named in messages (`an anonymous class` when it has no name). */
export function nameOfClass(stepClass: Function): string {
  return stepClass.name === '' ? 'an anonymous class' : stepClass.name;
}
