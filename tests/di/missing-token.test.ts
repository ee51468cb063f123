import { BaseStep, DEPS, Pipeline, PipelineValidationError, Step, StepExecutionError, step, type PipelineEvent } from 'fastroai';
import { container as rootContainer, inject, injectable, type DependencyContainer } from 'tsyringe';
import { rejectionOf } from '../support/async-helpers';

const CLASSIFIER = Symbol('Classifier');
interface Classifier {
  classify(text: string): string;
}

describe('DI: a step whose constructor needs something unregistered', () => {
  let container: DependencyContainer;
  let ran: string[];
  beforeEach(() => {
    container = rootContainer.createChildContainer();
    ran = [];
  });

  /** A pipeline with a plain step declared first (so it would run first) and the class step under `id`. */
  function pipelineWith(id: string, stepClass: new (...args: any[]) => BaseStep) {
    return new Pipeline({
      name: 'needs',
      steps: { first: step(() => ran.push('first')), [id]: stepClass },
      outputStep: 'first',
      container,
    });
  }

  it('fails the run before any step runs, naming the step and the missing token', async () => {
    @Step()
    class ClassifyStep extends BaseStep {
      constructor(@inject(CLASSIFIER) private readonly classifier: Classifier) {
        super();
      }
      execute() {
        ran.push('classify');
        return this.classifier.classify('x');
      }
    }
    const error = await rejectionOf(pipelineWith('classify', ClassifyStep).execute({}));
    expect(StepExecutionError.isInstance(error)).toBe(true);
    const failure = error as StepExecutionError;
    expect(failure.stepId).toBe('classify');
    expect(failure.message).toBe(
      "Step 'classify' failed: Cannot construct ClassifyStep: ClassifyStep's constructor parameter #0 needs the token Symbol(Classifier), " +
        "which is not registered in the pipeline's container or its parents",
    );
    expect(PipelineValidationError.isInstance(failure.originalError)).toBe(true);
    expect(ran).toEqual([]);
  });

  it('names a string token, and DEPS is never missing', async () => {
    @Step()
    class KeyedStep extends BaseStep {
      constructor(@inject(DEPS) readonly deps: unknown, @inject('apiKey') readonly apiKey: string) {
        super();
      }
      execute() {
        return this.apiKey;
      }
    }
    const error = (await rejectionOf(pipelineWith('keyed', KeyedStep).execute({}))) as StepExecutionError;
    expect(error.message).toMatch(/KeyedStep's constructor parameter #1 needs the token 'apiKey', which is not registered/);
  });

  it('follows unregistered service classes down to the missing token and shows the path', async () => {
    @injectable()
    class ScoringService {
      constructor(@inject('modelName') readonly model: string) {}
    }
    @Step()
    class ScoreStep extends BaseStep {
      constructor(readonly scoring: ScoringService) {
        super();
      }
      execute() {
        return this.scoring.model;
      }
    }
    const error = (await rejectionOf(pipelineWith('score', ScoreStep).execute({}))) as StepExecutionError;
    expect(error.stepId).toBe('score');
    expect(error.message).toMatch(
      /ScoringService's constructor parameter #0 needs the token 'modelName', which is not registered .* \(via ScoreStep → ScoringService\)$/,
    );
    expect(ran).toEqual([]);
  });

  it('errors the run() stream the same way, before pipeline.started', async () => {
    @Step()
    class ClassifyStep extends BaseStep {
      constructor(@inject(CLASSIFIER) readonly classifier: Classifier) {
        super();
      }
      execute() {
        return 1;
      }
    }
    const seen: PipelineEvent[] = [];
    const error = await new Promise<unknown>((resolve) => {
      pipelineWith('classify', ClassifyStep)
        .run({})
        .subscribe({ next: (event) => seen.push(event), error: resolve, complete: () => resolve(undefined) });
    });
    expect((error as StepExecutionError).message).toMatch(/needs the token Symbol\(Classifier\)/);
    expect(seen).toEqual([]);
    expect(ran).toEqual([]);
  });

  it('is not checked at construction: a service registered after the pipeline is built is found', async () => {
    @Step()
    class ClassifyStep extends BaseStep<unknown, string> {
      constructor(@inject(CLASSIFIER) private readonly classifier: Classifier) {
        super();
      }
      execute() {
        return this.classifier.classify('invoice');
      }
    }
    const pipeline = Pipeline.fromSteps({ name: 'late', steps: [ClassifyStep], container });
    container.registerInstance<Classifier>(CLASSIFIER, { classify: (text) => `${text}: billing` });
    expect((await pipeline.execute({})).output).toBe('invoice: billing');
  });

  it('reports a constructor that throws as the step failing, with the original error', async () => {
    const boom = new Error('no connection');
    @Step()
    class BrokenStep extends BaseStep {
      constructor() {
        super();
        throw boom;
      }
      execute() {
        return 1;
      }
    }
    const error = (await rejectionOf(pipelineWith('broken', BrokenStep).execute({}))) as StepExecutionError;
    expect(error.stepId).toBe('broken');
    expect(error.originalError).toBe(boom);
    expect(ran).toEqual([]);
  });
});

describe('DI: what a pipeline checks at construction', () => {
  it('rejects a constructor parameter typed as an interface without @inject, naming the step', () => {
    @Step()
    class ClassifyStep extends BaseStep {
      constructor(readonly classifier: Classifier) {
        super();
      }
      execute() {
        return 1;
      }
    }
    expect(() => Pipeline.fromSteps({ name: 'untyped', steps: [ClassifyStep] })).toThrow(
      new PipelineValidationError(
        "Step 'classify': ClassifyStep's constructor parameter #0 has no injection token: its type is emitted as Object " +
          '(an interface, a union or a type-only import); add @inject(TOKEN)',
      ),
    );
  });

  it('rejects a class with constructor parameters but no @Step in the steps record', () => {
    class PlainStep extends BaseStep {
      constructor(readonly name: string) {
        super();
      }
      execute() {
        return this.name;
      }
    }
    expect(() => new Pipeline({ name: 'plain', steps: { plain: PlainStep } })).toThrow(
      /^Step 'plain': PlainStep has constructor parameters but no type information for tsyringe: add @Step\(\) \(for a step\) or @injectable\(\), or register it in the container$/,
    );
  });

  it('accepts such a class when the container has a registration for it', async () => {
    class PlainStep extends BaseStep<unknown, string> {
      constructor(readonly name: string) {
        super();
      }
      execute() {
        return this.name;
      }
    }
    const container = rootContainer.createChildContainer();
    container.register(PlainStep, { useFactory: () => new PlainStep('made by a factory') });
    const pipeline = new Pipeline({ name: 'plain', steps: { plain: PlainStep }, container });
    expect((await pipeline.execute({})).output).toBe('made by a factory');
  });
});
