import 'reflect-metadata';
import type { StepConfigOptions } from '../src/config/step-config';

/**
 * The metadata keys `@Step` and `@DependsOn` write, and the only functions that touch them.
 * Decorators record facts here; `src/` reads them through the accessors below.
 */
export const STEP_METADATA_KEY = 'fastroai:step';
export const DEPENDS_ON_METADATA_KEY = 'fastroai:depends-on';

/** What `@Step(options)` records on a class. */
export interface StepMetadata {
  /** The explicit id, if `@Step({ id })` gave one. */
  readonly id: string | undefined;
  /** The config fields `@Step` was given (timeout, retries, retryDelay, costBudget). */
  readonly config: StepConfigOptions;
  /**
   * True when `@Step` ran as a TC39 standard decorator: the class was compiled without
   * `"experimentalDecorators": true`, so TypeScript emitted no constructor parameter types.
   */
  readonly standardDecorator?: true;
}

/** A dependency as `@DependsOn` received it: an id, a step class, or a thunk returning a class. */
export type DependencyReference = string | (abstract new (...args: any[]) => unknown) | (() => unknown);

/** Writes the `@Step` facts of a class. */
export function writeStepMetadata(target: object, metadata: StepMetadata): void {
  Reflect.defineMetadata(STEP_METADATA_KEY, metadata, target);
}

/** The `@Step` facts of a class (own, not inherited), or undefined when it has no `@Step`. */
export function readStepMetadata(target: object): StepMetadata | undefined {
  return Reflect.getOwnMetadata(STEP_METADATA_KEY, target) as StepMetadata | undefined;
}

/**
 * Adds the dependencies recorded by one `@DependsOn` (repeated decorators add up). Class
 * decorators apply bottom-up, so each call's references go before those already recorded:
 * the stored order is the order in the source, top to bottom.
 */
export function addDependsOnMetadata(target: object, references: readonly DependencyReference[]): void {
  const existing = readDependsOnMetadata(target);
  Reflect.defineMetadata(DEPENDS_ON_METADATA_KEY, [...references, ...existing], target);
}

/** The dependencies `@DependsOn` recorded on a class (own, not inherited), as given. */
export function readDependsOnMetadata(target: object): readonly DependencyReference[] {
  return (Reflect.getOwnMetadata(DEPENDS_ON_METADATA_KEY, target) as DependencyReference[] | undefined) ?? [];
}
