import { writeStepMetadata, type StepMetadata } from './metadata';
import { injectable } from 'tsyringe';
import type { StepConfigOptions } from '../src/config/step-config';

/** Options of {@link Step}: the step's id and its own config (seconds, integer microcents). */
export interface StepOptions extends StepConfigOptions {
  /**
   * The step's id in its pipeline.
   * @default the class name without a trailing `Step`, first letter lowercased (`FetchMarketStep` → `fetchMarket`)
   */
  id?: string;
}

/**
 * Declares a class as a pipeline step: records its id and config, and makes it injectable
 * (tsyringe's `injectable()`), so its constructor parameters are resolved per run from the
 * pipeline's container (`DEPS`, `TRACER` and your services).
 *
 * It only records facts. The options are validated, naming the class, when a pipeline is
 * built from it (`Pipeline.fromSteps`, or `new Pipeline({ steps })`), as `PipelineValidationError`.
 *
 * @param options id, timeout, retries, retryDelay, costBudget (all optional)
 * @example
 * @Step({ timeout: 30, retries: 2 })
 * @DependsOn(ExtractStep)
 * class ClassifyStep extends BaseStep<MyDeps, string> {
 *   constructor(@inject(Classifier) private classifier: Classifier) { super(); }
 *   async execute(ctx: StepContext<MyDeps>) {
 *     return this.classifier.classify(ctx.getDependency(ExtractStep));
 *   }
 * }
 * @see DependsOn
 */
export function Step(options?: StepOptions): ClassDecorator {
  return ((target: Function, context?: unknown) => {
    const metadata = toStepMetadata(options);
    // Without `experimentalDecorators`, TypeScript 5 applies TC39 decorators: `(value, context)`.
    // Recorded, so a pipeline can name the missing tsconfig flag instead of failing on DI.
    writeStepMetadata(target, isStandardClassContext(context) ? { ...metadata, standardDecorator: true } : metadata);
    // Records the constructor's parameter tokens for tsyringe; with no `token` option it registers nothing.
    injectable()(target as unknown as new (...args: any[]) => unknown);
  }) as ClassDecorator;
}

/** The second argument of a TC39 standard class decorator: `{ kind: 'class', name, … }`. */
function isStandardClassContext(context: unknown): boolean {
  return typeof context === 'object' && context !== null && (context as { kind?: unknown }).kind === 'class';
}

/** Splits the options into id and config as given; validation happens in `src/` (the scanner). */
function toStepMetadata(options: StepOptions | undefined): StepMetadata {
  if (typeof options !== 'object' || options === null) {
    // Recorded as given (e.g. `@Step(5)` from JavaScript) so the scanner can report it.
    return { id: undefined, config: (options ?? {}) as StepConfigOptions };
  }
  const { id, ...config } = options;
  return { id, config };
}
