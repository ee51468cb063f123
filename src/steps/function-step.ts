import { StepConfig, type StepConfigOptions } from '../config/step-config';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import type { StepContext } from '../context/step-context';
import { BaseStep } from './base-step';

/** The function of a {@link step}: its `ctx` is a `StepContext<Deps>`. */
type StepFunction<O, Deps> = (ctx: StepContext<Deps>) => O | Promise<O>;

/** A step made from a function by {@link step}. */
export class FunctionStep<O, Deps = any> extends BaseStep<Deps, Awaited<O>> {
  constructor(
    private readonly fn: StepFunction<O, Deps>,
    config?: StepConfig,
  ) {
    super();
    if (typeof fn !== 'function') {
      throw new PipelineValidationError(`step() expects a function, got ${fn === null ? 'null' : typeof fn}`);
    }
    // Always a StepConfig (API.md §3); one given no fields overrides nothing when resolved.
    this.config = config ?? new StepConfig();
  }

  execute(ctx: StepContext<Deps>): Promise<Awaited<O>> | Awaited<O> {
    return this.fn(ctx) as Promise<Awaited<O>> | Awaited<O>;
  }
}

/**
 * Makes a step from a function, sync or async (the original's `@step` decorator).
 *
 * `ctx.deps` is typed by the `ctx` annotation, `step((ctx: StepContext<AppDeps>) => …)`, and the
 * step is then a `BaseStep<AppDeps, …>`, from which `new Pipeline({ steps })` infers its `Deps`.
 * Without an annotation it takes the `Deps` of the pipeline it is written in
 * (`new Pipeline<AppDeps>({ steps: { a: step((ctx) => …) } })`), else `any` (API.md §3).
 *
 * @example
 * const extract = step((ctx) => ctx.getInput<string>('document').split(' '));
 * const classify = step({ timeout: 30, retries: 2 }, async (ctx) => (await ctx.run(agent, 'Classify')).output);
 * const summarize = step({ retries: 1 })(async (ctx) => '...');
 */
export function step<O, Deps = any>(fn: StepFunction<O, Deps>): BaseStep<Deps, Awaited<O>>;
export function step(options: StepConfigOptions): <O, Deps = any>(fn: StepFunction<O, Deps>) => BaseStep<Deps, Awaited<O>>;
export function step<O, Deps = any>(options: StepConfigOptions, fn: StepFunction<O, Deps>): BaseStep<Deps, Awaited<O>>;
export function step<O, Deps>(
  fnOrOptions: StepFunction<O, Deps> | StepConfigOptions,
  fn?: StepFunction<O, Deps>,
): BaseStep<Deps, Awaited<O>> | (<P, D>(fn: StepFunction<P, D>) => BaseStep<D, Awaited<P>>) {
  if (typeof fnOrOptions === 'function') return new FunctionStep(fnOrOptions, new StepConfig());
  const config = new StepConfig(fnOrOptions);
  if (fn !== undefined) return new FunctionStep(fn, config);
  return <P, D>(later: StepFunction<P, D>) => new FunctionStep(later, config);
}
