import { StepConfig, type StepConfigOptions } from '../config/step-config';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import type { StepContext } from '../context/step-context';
import { BaseStep } from './base-step';

type StepFunction<O> = (ctx: StepContext<any>) => O | Promise<O>;

/** A step made from a function by {@link step}. */
export class FunctionStep<O> extends BaseStep<any, Awaited<O>> {
  constructor(
    private readonly fn: StepFunction<O>,
    config?: StepConfig,
  ) {
    super();
    if (typeof fn !== 'function') {
      throw new PipelineValidationError(`step() expects a function, got ${fn === null ? 'null' : typeof fn}`);
    }
    // Always a StepConfig (API.md §3); one given no fields overrides nothing when resolved.
    this.config = config ?? new StepConfig();
  }

  execute(ctx: StepContext<any>): Promise<Awaited<O>> | Awaited<O> {
    return this.fn(ctx) as Promise<Awaited<O>> | Awaited<O>;
  }
}

/**
 * Makes a step from a function, sync or async (the original's `@step` decorator).
 *
 * @example
 * const extract = step((ctx) => ctx.getInput<string>('document').split(' '));
 * const classify = step({ timeout: 30, retries: 2 }, async (ctx) => (await ctx.run(agent, 'Classify')).output);
 * const summarize = step({ retries: 1 })(async (ctx) => '...');
 */
export function step<O>(fn: StepFunction<O>): BaseStep<any, Awaited<O>>;
export function step(options: StepConfigOptions): <O>(fn: StepFunction<O>) => BaseStep<any, Awaited<O>>;
export function step<O>(options: StepConfigOptions, fn: StepFunction<O>): BaseStep<any, Awaited<O>>;
export function step<O>(
  fnOrOptions: StepFunction<O> | StepConfigOptions,
  fn?: StepFunction<O>,
): BaseStep<any, Awaited<O>> | (<P>(fn: StepFunction<P>) => BaseStep<any, Awaited<P>>) {
  if (typeof fnOrOptions === 'function') return new FunctionStep(fnOrOptions, new StepConfig());
  const config = new StepConfig(fnOrOptions);
  if (fn !== undefined) return new FunctionStep(fn, config);
  return <P>(later: StepFunction<P>) => new FunctionStep(later, config);
}
