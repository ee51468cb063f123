import 'reflect-metadata';
import { readStepMetadata } from '../../decorators/metadata';

/** tsyringe's metadata key for `@inject` parameter tokens (see read-constructor-parameters.ts). */
const TSYRINGE_INJECTION_TOKENS_KEY = 'injectionTokens';

/** A tsconfig flag fastroai's decorators need (API.md §1). */
export type DecoratorFlag = 'experimentalDecorators' | 'emitDecoratorMetadata';

/**
 * Which tsconfig flag a `@Step` class was compiled without, judged from what its decorators
 * left on it; undefined when nothing it needs is missing. Both mistakes compile and would
 * otherwise fail with a DI message about a class that does have `@Step()`:
 *
 * - without `experimentalDecorators`, TypeScript 5 applies `@Step` as a TC39 standard
 *   decorator (`@Step` records that it received a `{ kind: 'class' }` context), and emits no
 *   parameter types, whatever `emitDecoratorMetadata` says;
 * - without `emitDecoratorMetadata`, the class has no `design:paramtypes`.
 *
 * Either matters only for a constructor with parameters that do not all have `@inject(token)`:
 * a step without constructor parameters runs anyway, and is not refused.
 */
export function missingTsconfigFlag(stepClass: Function): DecoratorFlag | undefined {
  const metadata = readStepMetadata(stepClass);
  if (metadata === undefined || stepClass.length === 0) return undefined;
  if (Reflect.getMetadata('design:paramtypes', stepClass) !== undefined) return undefined;
  const injected = (Reflect.getOwnMetadata(TSYRINGE_INJECTION_TOKENS_KEY, stepClass) ?? {}) as Record<string, unknown>;
  const everyParameterInjected = Array.from({ length: stepClass.length }, (_, index) => String(index)).every((key) => key in injected);
  if (everyParameterInjected) return undefined;
  return metadata.standardDecorator === true ? 'experimentalDecorators' : 'emitDecoratorMetadata';
}
