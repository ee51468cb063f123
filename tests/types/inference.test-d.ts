/**
 * The common paths infer their types with no type arguments (issue 8): a pipeline's `Deps`
 * from its steps, its output from `outputStep`, and `ctx.deps` from an annotated `ctx`.
 */
import { BaseStep, Pipeline, Step, StepContext, step, type PipelineResult, type StepClass } from 'fastroai';
import { assertType, type Equal } from './type-assertions';

interface AppDeps {
  apiKey: string;
}
interface Calculation {
  usd: number;
}

@Step()
class ExtractStep extends BaseStep<AppDeps, string> {
  execute(ctx: StepContext<AppDeps>): string {
    return ctx.deps.apiKey;
  }
}

@Step()
class CalculateStep extends BaseStep<AppDeps, Calculation> {
  async execute(ctx: StepContext<AppDeps>): Promise<Calculation> {
    return { usd: ctx.getDependency(ExtractStep).length };
  }
}

/** A step that needs no deps: it does not stop the pipeline's Deps from being inferred. */
@Step()
class ClockStep extends BaseStep<unknown, number> {
  execute(): number {
    return 0;
  }
}

// Pipeline.fromSteps, no type arguments: Deps from the step classes, the output from outputStep.
const calculate = Pipeline.fromSteps({ name: 'doc', steps: [ClockStep, ExtractStep, CalculateStep], outputStep: CalculateStep });
assertType<Equal<typeof calculate, Pipeline<AppDeps, Record<string, unknown>, Calculation>>>();
async function resultOf() {
  const result = await calculate.execute({ document: 'x' }, { apiKey: 'k' });
  assertType<Equal<typeof result, PipelineResult<Calculation>>>();
  assertType<Equal<typeof result.output, Calculation | undefined>>();
  // @ts-expect-error the deps are the steps' AppDeps.
  await calculate.execute({}, { apiKey: 42 });
}

// Without outputStep the output is unknown (the last level is known only at run time), Deps is still inferred.
const noOutput = Pipeline.fromSteps({ name: 'doc', steps: [ExtractStep, CalculateStep] });
assertType<Equal<typeof noOutput, Pipeline<AppDeps, Record<string, unknown>, unknown>>>();

// An id as outputStep: the output is unknown.
const byId = Pipeline.fromSteps({ name: 'doc', steps: [ExtractStep, CalculateStep], outputStep: 'calculate' });
assertType<Equal<typeof byId, Pipeline<AppDeps, Record<string, unknown>, unknown>>>();

// Explicit Deps still compiles and checks the steps against it. TypeScript infers all type
// arguments or none (TypeScript#26242), so the output is then unknown: leave them out.
const explicit = Pipeline.fromSteps<AppDeps>({ name: 'doc', steps: [ExtractStep, CalculateStep], outputStep: CalculateStep });
assertType<Equal<typeof explicit, Pipeline<AppDeps, Record<string, unknown>, unknown>>>();
// @ts-expect-error ExtractStep needs AppDeps, which { region: string } is not.
Pipeline.fromSteps<{ region: string }>({ name: 'doc', steps: [ExtractStep] });

// step(): an annotated ctx types ctx.deps and the step.
const annotated = step((ctx: StepContext<AppDeps>) => ctx.deps.apiKey.length);
assertType<Equal<typeof annotated, BaseStep<AppDeps, number>>>();
const withOptions = step({ retries: 1 }, async (ctx: StepContext<AppDeps>) => ctx.deps.apiKey);
assertType<Equal<typeof withOptions, BaseStep<AppDeps, string>>>();
const curried = step({ retries: 1 })((ctx: StepContext<AppDeps>) => ctx.deps.apiKey);
assertType<Equal<typeof curried, BaseStep<AppDeps, string>>>();
// @ts-expect-error AppDeps has no `region`.
step((ctx: StepContext<AppDeps>) => ctx.deps.region);

// ... and new Pipeline infers its Deps from such steps.
const fromFunctions = new Pipeline({ name: 'fn', steps: { extract: annotated, upper: withOptions } });
assertType<Equal<typeof fromFunctions, Pipeline<AppDeps, Record<string, unknown>, unknown>>>();

// An unannotated ctx takes the Deps of the pipeline it is written in ...
new Pipeline<AppDeps>({
  name: 'contextual',
  steps: {
    a: step((ctx) => {
      assertType<Equal<typeof ctx.deps, AppDeps>>();
      return ctx.deps.apiKey;
    }),
  },
});

// ... and is `any` on its own, as API.md §3 declares (StepContext<any>).
const loose = step((ctx) => ctx.deps);
assertType<Equal<typeof loose, BaseStep<any, any>>>();
// step<O> with an explicit output type, as API.md §3 declares it.
const explicitOutput = step<number>(() => 1);
assertType<Equal<typeof explicitOutput, BaseStep<any, number>>>();

void [resultOf, noOutput, byId, explicit, curried, fromFunctions, loose, explicitOutput];

// Steps that need different deps: the pipeline needs all of them.
interface DbDeps {
  db: string;
}
@Step()
class SaveStep extends BaseStep<DbDeps, boolean> {
  execute(ctx: StepContext<DbDeps>): boolean {
    return ctx.deps.db !== '';
  }
}
const mixed = Pipeline.fromSteps({ name: 'mixed', steps: [ExtractStep, ClockStep, SaveStep], outputStep: SaveStep });
assertType<Equal<typeof mixed, Pipeline<AppDeps & DbDeps, Record<string, unknown>, boolean>>>();
async function mixedDeps() {
  await mixed.execute({}, { apiKey: 'k', db: 'd' });
  // @ts-expect-error SaveStep needs db too.
  await mixed.execute({}, { apiKey: 'k' });
}
// A list typed as StepClass[] (API.md §4) still compiles.
declare const someClasses: StepClass[];
Pipeline.fromSteps({ name: 'list', steps: someClasses });
void mixedDeps;
