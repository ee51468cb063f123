import {
  BaseStep,
  DEPS,
  DependsOn,
  NoOpTracer,
  Pipeline,
  PipelineConfig,
  Step,
  TRACER,
  type StepContext,
  type Tracer,
} from 'fastroai';
import { container as rootContainer, inject, injectable, Lifecycle, singleton, type DependencyContainer } from 'tsyringe';
import { deferred } from '../support/async-helpers';

interface RunDeps {
  user: string;
}

/** A tracer that runs spans as they come; only its identity matters here. */
function makeTracer(): Tracer {
  return { span: (_name, fn) => fn('trace'), logMetric: () => undefined, logError: () => undefined };
}

describe('DI: each run resolves class steps from its own child container', () => {
  let container: DependencyContainer;
  beforeEach(() => {
    container = rootContainer.createChildContainer();
  });

  it("injects the run's deps (DEPS) into constructors, and they match ctx.deps", async () => {
    @Step()
    class WhoStep extends BaseStep<RunDeps, string[]> {
      constructor(@inject(DEPS) private readonly deps: RunDeps) {
        super();
      }
      execute(ctx: StepContext<RunDeps>) {
        return [this.deps.user, ctx.deps.user];
      }
    }
    const pipeline = Pipeline.fromSteps<RunDeps>({ name: 'who', steps: [WhoStep], container });
    expect((await pipeline.execute({}, { user: 'ada' })).output).toEqual(['ada', 'ada']);
    expect((await pipeline.execute({}, { user: 'grace' })).output).toEqual(['grace', 'grace']);
  });

  it('injects DEPS into a run given no deps (undefined) or null deps: the step gets them as they are', async () => {
    @Step()
    class OptionalDepsStep extends BaseStep<RunDeps | undefined | null, unknown[]> {
      constructor(@inject(DEPS) private readonly deps: RunDeps | undefined | null) {
        super();
      }
      execute() {
        return [this.deps];
      }
    }
    const pipeline = Pipeline.fromSteps<RunDeps | undefined | null>({ name: 'optional', steps: [OptionalDepsStep], container });
    expect((await pipeline.execute({})).output).toEqual([undefined]);
    expect((await pipeline.execute({}, null)).output).toEqual([null]);
  });

  it("injects the run's tracer (TRACER), and a NoOpTracer when tracing is off", async () => {
    const seen: Tracer[] = [];
    @Step()
    class TracedStep extends BaseStep {
      constructor(@inject(TRACER) tracer: Tracer) {
        super();
        seen.push(tracer);
      }
      execute(ctx: StepContext) {
        seen.push(ctx.tracer);
        return 1;
      }
    }
    const tracer = makeTracer();
    await Pipeline.fromSteps({ name: 'traced', steps: [TracedStep], container }).execute({}, undefined, tracer);
    expect(seen).toEqual([tracer, tracer]);

    seen.length = 0;
    const untraced = Pipeline.fromSteps({ name: 'untraced', steps: [TracedStep], container, config: new PipelineConfig({ trace: false }) });
    await untraced.execute({}, undefined, { tracer });
    expect(seen[0]).toBeInstanceOf(NoOpTracer);
    expect(seen[1]).toBe(seen[0]);
  });

  it('constructs class steps anew for every run', async () => {
    let constructed = 0;
    @Step()
    class CountedStep extends BaseStep<unknown, number> {
      private readonly number = ++constructed;
      execute() {
        return this.number;
      }
    }
    const pipeline = Pipeline.fromSteps({ name: 'counted', steps: [CountedStep], container });
    expect((await pipeline.execute({})).output).toBe(1);
    expect((await pipeline.execute({})).output).toBe(2);
  });

  it('injects services the application registered: singletons shared by runs, transients made per resolution', async () => {
    let clients = 0;
    let formatters = 0;
    class MarketClient {
      readonly id = ++clients;
    }
    @injectable()
    class Formatter {
      readonly id = ++formatters;
    }
    container.registerSingleton(MarketClient);
    container.register(Formatter, { useClass: Formatter });

    @Step()
    class QuoteStep extends BaseStep<unknown, number[]> {
      constructor(
        private readonly client: MarketClient,
        private readonly formatter: Formatter,
      ) {
        super();
      }
      execute() {
        return [this.client.id, this.formatter.id];
      }
    }
    const pipeline = Pipeline.fromSteps({ name: 'quotes', steps: [QuoteStep], container });
    expect((await pipeline.execute({})).output).toEqual([1, 1]);
    expect((await pipeline.execute({})).output).toEqual([1, 2]);
  });

  it('injects @singleton classes without registration, one instance for every run', async () => {
    let made = 0;
    @singleton()
    class Cache {
      readonly id = ++made;
    }
    @Step()
    class CachedStep extends BaseStep<unknown, number> {
      constructor(private readonly cache: Cache) {
        super();
      }
      execute() {
        return this.cache.id;
      }
    }
    const pipeline = Pipeline.fromSteps({ name: 'cached', steps: [CachedStep], container });
    await pipeline.execute({});
    expect((await pipeline.execute({})).output).toBe(1);
    expect(made).toBe(1);
  });

  it('gives a ContainerScoped service one instance per run, shared by the steps of that run', async () => {
    let sessions = 0;
    class Session {
      readonly id = ++sessions;
    }
    container.register(Session, { useClass: Session }, { lifecycle: Lifecycle.ContainerScoped });
    @Step()
    class FirstStep extends BaseStep<unknown, number> {
      constructor(private readonly session: Session) {
        super();
      }
      execute() {
        return this.session.id;
      }
    }
    @Step()
    @DependsOn(FirstStep)
    class SecondStep extends BaseStep<unknown, number[]> {
      constructor(private readonly session: Session) {
        super();
      }
      execute(ctx: StepContext) {
        return [ctx.getDependency(FirstStep), this.session.id];
      }
    }
    const pipeline = Pipeline.fromSteps({ name: 'scoped', steps: [FirstStep, SecondStep], container });
    expect((await pipeline.execute({})).output).toEqual([1, 1]);
    expect((await pipeline.execute({})).output).toEqual([2, 2]);
  });

  it('resolves from the container given to the pipeline, not from the root', async () => {
    const NAME = Symbol('name');
    const left = rootContainer.createChildContainer();
    const right = rootContainer.createChildContainer();
    left.registerInstance(NAME, 'left');
    right.registerInstance(NAME, 'right');
    @Step()
    class NameStep extends BaseStep<unknown, string> {
      constructor(@inject(NAME) private readonly name: string) {
        super();
      }
      execute() {
        return this.name;
      }
    }
    expect((await Pipeline.fromSteps({ name: 'l', steps: [NameStep], container: left }).execute({})).output).toBe('left');
    expect((await Pipeline.fromSteps({ name: 'r', steps: [NameStep], container: right }).execute({})).output).toBe('right');
  });

  it("does not leak a run's DEPS into the pipeline's container", async () => {
    @Step()
    class DepsStep extends BaseStep {
      constructor(@inject(DEPS) readonly deps: unknown) {
        super();
      }
      execute() {
        return 1;
      }
    }
    await Pipeline.fromSteps({ name: 'leak', steps: [DepsStep], container }).execute({}, { secret: 1 });
    expect(container.isRegistered(DEPS, true)).toBe(false);
  });

  it('keeps two concurrent runs apart: each sees its own deps in constructors and in ctx.deps', async () => {
    const gates = new Map([
      ['ada', deferred()],
      ['grace', deferred()],
    ]);
    const started = new Map([
      ['ada', deferred()],
      ['grace', deferred()],
    ]);
    @Step()
    class SlowStep extends BaseStep<RunDeps, string> {
      constructor(@inject(DEPS) private readonly deps: RunDeps) {
        super();
      }
      async execute(ctx: StepContext<RunDeps>) {
        started.get(ctx.deps.user)!.resolve();
        await gates.get(ctx.deps.user)!.promise;
        return `${this.deps.user}/${ctx.deps.user}`;
      }
    }
    @Step()
    @DependsOn(SlowStep)
    class EchoStep extends BaseStep<RunDeps, string> {
      constructor(@inject(DEPS) private readonly deps: RunDeps) {
        super();
      }
      execute(ctx: StepContext<RunDeps>) {
        return `${ctx.getDependency(SlowStep)} ${this.deps.user}/${ctx.deps.user}`;
      }
    }
    const pipeline = Pipeline.fromSteps<RunDeps>({ name: 'concurrent', steps: [SlowStep, EchoStep], container });
    const ada = pipeline.execute({}, { user: 'ada' });
    const grace = pipeline.execute({}, { user: 'grace' });
    // Both runs are inside SlowStep at once; grace finishes first, then ada.
    await Promise.all([started.get('ada')!.promise, started.get('grace')!.promise]);
    gates.get('grace')!.resolve();
    expect((await grace).output).toBe('grace/grace grace/grace');
    gates.get('ada')!.resolve();
    expect((await ada).output).toBe('ada/ada ada/ada');
  });
});
