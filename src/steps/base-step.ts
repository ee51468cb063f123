import { GIVEN_FIELDS, StepConfig } from '../config/step-config';
import { readStepDeclaration } from './read-step-declaration';
import type { StepContext } from '../context/step-context';

/**
 * A unit of work in a pipeline. Subclass it and implement `execute`; give the class
 * `@Step(...)` to declare it with decorators, or put an instance in `new Pipeline({ steps })`.
 *
 * @example
 * class ExtractStep extends BaseStep<MyDeps, string[]> {
 *   async execute(ctx: StepContext<MyDeps>) {
 *     return ctx.getInput<string>('document').split(' ');
 *   }
 * }
 */
export abstract class BaseStep<Deps = unknown, Output = unknown> {
  /**
   * The step's own config; `stepConfigs[id]` and per-call options override it field by field.
   * An instance of a `@Step` class starts with its `@Step` config (the decorator only records
   * it on the class); a subclass's own `config` field replaces it.
   */
  config?: StepConfig;

  constructor() {
    const declared = declaredConfigOf(new.target);
    // A copy each: a step that changes its own config changes no other instance's (nor the next run's).
    this.config = declared === undefined ? undefined : copyOfConfig(declared);
  }

  abstract execute(ctx: StepContext<Deps>): Promise<Output> | Output;
}

/** A new StepConfig with the fields `config` was given (the others still inherited when resolved). */
function copyOfConfig(config: StepConfig): StepConfig {
  const given: Record<string, unknown> = {};
  for (const field of config[GIVEN_FIELDS]) given[field] = config[field as keyof StepConfig];
  return new StepConfig(given);
}

/** Each class's `@Step` config, read once (none, or no config fields: undefined). */
const declaredConfigs = new WeakMap<Function, StepConfig | undefined>();

function declaredConfigOf(stepClass: Function): StepConfig | undefined {
  if (declaredConfigs.has(stepClass)) return declaredConfigs.get(stepClass);
  let config: StepConfig | undefined;
  try {
    config = readStepDeclaration(stepClass)?.config;
  } catch {
    // Invalid @Step options: a pipeline built from the class names them (PipelineValidationError).
  }
  declaredConfigs.set(stepClass, config);
  return config;
}

/** Any object a pipeline can run: `execute(ctx)` returning the output or a promise of it. */
export interface StepLike<Deps = any, Output = unknown> {
  config?: StepConfig;
  execute(ctx: StepContext<Deps>): Promise<Output> | Output;
}

/** A step class (decorated with `@Step`, or any class whose instances are steps). */
export type StepClass<Instance extends StepLike = StepLike> = abstract new (...args: any[]) => Instance;

/** The output type of a step class or instance: what its `execute` resolves to. */
export type StepOutput<S> = S extends abstract new (...args: any[]) => infer I
  ? I extends { execute(...args: any[]): infer R }
    ? Awaited<R>
    : never
  : S extends { execute(...args: any[]): infer R }
    ? Awaited<R>
    : never;

/** True for an object a pipeline can run as a step. */
export function isStepInstance(value: unknown): value is StepLike {
  return typeof value === 'object' && value !== null && typeof (value as { execute?: unknown }).execute === 'function';
}

/** True for a class whose instances are steps (it has `execute` on its prototype). */
export function isStepClass(value: unknown): value is StepClass {
  return (
    typeof value === 'function' &&
    typeof (value as { prototype?: { execute?: unknown } }).prototype?.execute === 'function'
  );
}
