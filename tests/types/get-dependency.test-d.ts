import { BaseStep, Pipeline, Step, StepContext, type StepOutput } from 'fastroai';
import { assertType, type Equal } from './type-assertions';

interface MyDeps {
  apiKey: string;
}
interface Entities {
  names: string[];
}

@Step()
class ExtractStep extends BaseStep<MyDeps, Entities> {
  async execute(_ctx: StepContext<MyDeps>): Promise<Entities> {
    return { names: [] };
  }
}

@Step()
class CountStep extends BaseStep<MyDeps, number> {
  execute(): number {
    return 1;
  }
}

/** A step class that does not extend BaseStep: its output comes from execute's return type. */
@Step()
class LooseStep {
  execute() {
    return Promise.resolve({ ok: true as const });
  }
}

class NotAStep {
  run() {
    return 1;
  }
}

declare const ctx: StepContext<MyDeps>;

// getDependency(StepClass) is typed as that step's (awaited) output, without a cast.
const entities = ctx.getDependency(ExtractStep);
assertType<Equal<typeof entities, Entities>>();
const count = ctx.getDependency(CountStep);
assertType<Equal<typeof count, number>>();
const loose = ctx.getDependency(LooseStep);
assertType<Equal<typeof loose, { ok: true }>>();
const maybe = ctx.getDependencyOrNone(ExtractStep);
assertType<Equal<typeof maybe, Entities | undefined>>();

// By id: unknown unless the caller says.
const byId = ctx.getDependency('extract');
assertType<Equal<typeof byId, unknown>>();
const typedById = ctx.getDependency<number>('count');
assertType<Equal<typeof typedById, number>>();

// ctx.deps carries the step's Deps type.
assertType<Equal<typeof ctx.deps, MyDeps>>();

// StepOutput is the awaited return type of execute.
assertType<Equal<StepOutput<typeof ExtractStep>, Entities>>();
assertType<Equal<StepOutput<typeof CountStep>, number>>();

// @ts-expect-error ExtractStep's output is Entities, not a string.
const wrong: string = ctx.getDependency(ExtractStep);

// @ts-expect-error a class without execute is not a step.
ctx.getDependency(NotAStep);

// @ts-expect-error neither an id nor a step class.
ctx.getDependency(42);

// @ts-expect-error the output is possibly undefined.
const notUndefined: Entities = ctx.getDependencyOrNone(ExtractStep);

// Pipeline.fromSteps with an output class types the result's output.
const pipeline = Pipeline.fromSteps({ name: 'typed', steps: [ExtractStep, CountStep], outputStep: CountStep });
assertType<Equal<typeof pipeline, Pipeline<MyDeps, Record<string, unknown>, number>>>();
async function outputOf() {
  const result = await pipeline.execute({});
  assertType<Equal<typeof result.output, number | undefined>>();
}

// @ts-expect-error fromSteps takes step classes, not instances.
Pipeline.fromSteps({ name: 'instances', steps: [new CountStep()] });

// @ts-expect-error a class without execute is not a step class.
Pipeline.fromSteps({ name: 'not-steps', steps: [NotAStep] });

void [wrong, notUndefined, outputOf];
