import { shownMessageOf } from '../support/shown-message';
import { BaseStep, DependsOn, Pipeline, PipelineValidationError, Step, type StepContext } from 'fastroai';
import { scanSteps } from '../../src/pipeline/scan-steps';

/** Runs `build` and returns the PipelineValidationError it throws (fails the test if it throws anything else). */
function validationError(build: () => unknown): PipelineValidationError {
  try {
    build();
  } catch (error) {
    expect(PipelineValidationError.isInstance(error)).toBe(true);
    return error as PipelineValidationError;
  }
  throw new Error('expected a PipelineValidationError, nothing was thrown');
}

@Step()
class ExtractStep extends BaseStep<unknown, string[]> {
  execute(ctx: StepContext) {
    return ctx.getInput<string>('document', '').split(' ');
  }
}

@Step()
@DependsOn(ExtractStep)
class ClassifyStep extends BaseStep<unknown, string> {
  execute(ctx: StepContext) {
    return ctx.getDependency(ExtractStep).length > 2 ? 'long' : 'short';
  }
}

describe('scanSteps', () => {
  it('produces the plain definition: classes by id, dependencies by id', () => {
    expect(scanSteps([ExtractStep, ClassifyStep])).toEqual({
      steps: { extract: ExtractStep, classify: ClassifyStep },
      dependencies: { classify: ['extract'] },
    });
  });

  it('gives Pipeline.fromSteps the same graph as new Pipeline with the scanned definition', async () => {
    const decorated = Pipeline.fromSteps({ name: 'doc', steps: [ExtractStep, ClassifyStep] });
    const plain = new Pipeline({ name: 'doc', ...scanSteps([ExtractStep, ClassifyStep]) });
    expect(decorated.levels).toEqual(plain.levels);
    expect(decorated.outputStep).toBe('classify');
    expect((await decorated.execute({ document: 'a b c' })).output).toBe('long');
  });

  it('accepts outputStep as a class', () => {
    const pipeline = Pipeline.fromSteps({ name: 'doc', steps: [ExtractStep, ClassifyStep], outputStep: ExtractStep });
    expect(pipeline.outputStep).toBe('extract');
  });

  describe('rejects, naming the class', () => {
    it('two classes with one id', () => {
      @Step({ id: 'extract' })
      class OcrStep extends BaseStep {
        execute() {
          return 'text';
        }
      }
      const error = validationError(() => scanSteps([ExtractStep, OcrStep]));
      expect(error.message).toBe("ExtractStep and OcrStep both have the step id 'extract': give one of them @Step({ id: '...' })");
    });

    it('two classes of the same name', () => {
      const make = () => {
        @Step()
        class TwinStep extends BaseStep {
          execute() {
            return 1;
          }
        }
        return TwinStep;
      };
      expect(validationError(() => scanSteps([make(), make()])).message).toMatch(
        /TwinStep and TwinStep both have the step id 'twin' \(two classes of the same name\)/,
      );
    });

    it('@DependsOn on a class without @Step', () => {
      @DependsOn(ExtractStep)
      class UndecoratedStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      expect(validationError(() => scanSteps([ExtractStep, UndecoratedStep])).message).toBe(
        'UndecoratedStep has @DependsOn but no @Step: add @Step() to the class',
      );
      // The plain constructor reads the same metadata and rejects it too.
      expect(() => new Pipeline({ name: 'p', steps: { extract: ExtractStep, undecorated: UndecoratedStep } })).toThrow(
        'UndecoratedStep has @DependsOn but no @Step',
      );
    });

    it('a class without @Step in fromSteps', () => {
      class PlainStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      expect(validationError(() => scanSteps([PlainStep])).message).toMatch(/^PlainStep has no @Step: .*add @Step\(\)/);
    });

    it('a dependency class that is not among the pipeline\'s steps (API.md\'s message; the class and what to do in its hint)', () => {
      const error = validationError(() => scanSteps([ClassifyStep]));
      expect(error.message).toBe("Step 'classify' depends on unknown: 'extract'");
      expect(shownMessageOf(error)).toBe(
        "Step 'classify' depends on unknown: 'extract' (@DependsOn on ClassifyStep): ExtractStep is not among the pipeline's steps: add it to steps",
      );
      expect(error.hint).toBe("(@DependsOn on ClassifyStep): ExtractStep is not among the pipeline's steps: add it to steps");
    });

    it('a dependency id that is not a step', () => {
      @Step()
      @DependsOn('nowhere')
      class LostStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      const error = validationError(() => scanSteps([LostStep]));
      expect(error.message).toBe("Step 'lost' depends on unknown: 'nowhere'");
      expect(shownMessageOf(error)).toBe("Step 'lost' depends on unknown: 'nowhere' (@DependsOn on LostStep). Known steps: ['lost']");
    });

    it('a thunk that returns nothing', () => {
      let later: typeof ExtractStep | undefined;
      @Step()
      @DependsOn(() => later!)
      class EarlyStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      expect(validationError(() => scanSteps([EarlyStep])).message).toMatch(
        /^@DependsOn on EarlyStep: the thunk .* returned undefined, not a step class \(is the class defined yet\? a circular import\?\)$/,
      );
      later = ExtractStep;
      expect(scanSteps([EarlyStep, ExtractStep]).dependencies).toEqual({ early: ['extract'] });
    });

    it('a thunk that returns something other than a class', () => {
      @Step()
      @DependsOn((() => 'extract') as never)
      class OddStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      expect(validationError(() => scanSteps([ExtractStep, OddStep])).message).toMatch(
        /^@DependsOn on OddStep: the thunk .* returned 'extract', not a step class$/,
      );
    });

    it('a dependency reference that is neither an id, a class nor a thunk', () => {
      @Step()
      @DependsOn(42 as never)
      class NumberStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      expect(validationError(() => scanSteps([NumberStep])).message).toBe(
        '@DependsOn on NumberStep: expected a step id, a step class or a thunk () => StepClass, got 42',
      );
    });

    it('a class without execute', () => {
      @Step()
      class NoExecuteStep {}
      expect(validationError(() => scanSteps([NoExecuteStep as never])).message).toBe(
        'NoExecuteStep has no execute(ctx) method: a step class must implement it',
      );
    });

    it('an instance instead of a class', () => {
      expect(validationError(() => scanSteps([new ExtractStep() as never])).message).toMatch(
        /^Pipeline\.fromSteps: steps\[0\] is not a step class, got .* \(an instance of ExtractStep: pass the class, or put instances in new Pipeline\(\{ steps \}\)\)$/,
      );
    });

    it('a class listed twice', () => {
      expect(validationError(() => scanSteps([ExtractStep, ExtractStep])).message).toBe('ExtractStep is listed twice in steps');
    });

    it('steps that are not an array', () => {
      expect(validationError(() => scanSteps({ extract: ExtractStep } as never)).message).toMatch(/steps must be an array of step classes/);
    });

    it("an outputStep class that is not among the steps (API.md's message; the class in its hint)", () => {
      const error = validationError(() => Pipeline.fromSteps({ name: 'p', steps: [ExtractStep], outputStep: ClassifyStep }));
      expect(error.message).toBe("outputStep 'classify' not in steps");
      expect(error.hint).toBe("ClassifyStep is not among the pipeline's steps");
    });

    it('a dependency class not among the steps whose id is another step\'s: named by its class, not by an id that is known', () => {
      @Step({ id: 'extract' })
      class OtherExtractStep extends BaseStep {
        execute() {
          return 0;
        }
      }
      @Step()
      @DependsOn(OtherExtractStep)
      class UsesOtherStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      expect(validationError(() => scanSteps([ExtractStep, UsesOtherStep])).message).toBe("Step 'usesOther' depends on unknown: 'OtherExtractStep'");
    });

    it.each([
      [{ timeout: -1 }, /StepConfig\.timeout must be a number of seconds >= 0, got -1/],
      [{ retries: 1.5 }, /StepConfig\.retries must be an integer >= 0, got 1\.5/],
      [{ retries: -1 }, /StepConfig\.retries must be an integer >= 0, got -1/],
      [{ retryDelay: Number.NaN }, /StepConfig\.retryDelay must be a number of seconds >= 0, got NaN/],
      [{ costBudget: -5 }, /StepConfig\.costBudget must be a number of microcents >= 0 or null, got -5/],
      [{ id: '' }, /id must be a non-empty string, got ''/],
      [{ timout: 5 }, /unknown option 'timout' \(known: id, timeout, retries, retryDelay, costBudget\)\. Did you mean 'timeout'\?$/],
      [{ retires: 1 }, /unknown option 'retires' .*Did you mean 'retries'\?$/],
    ])('invalid @Step options %p', (options, message) => {
      @Step(options as never)
      class InvalidStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      const error = validationError(() => scanSteps([InvalidStep]));
      expect(error.message).toMatch(/^Invalid @Step options on InvalidStep: /);
      expect(error.message).toMatch(message);
    });

    it('@Step options that are not an object', () => {
      @Step(5 as never)
      class FiveStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      expect(validationError(() => scanSteps([FiveStep])).message).toBe('Invalid @Step options on FiveStep: expected an object, got 5');
    });

    it('an anonymous class without an id', () => {
      const Anonymous = (() => class extends BaseStep {
        execute() {
          return 1;
        }
      })();
      Step()(Anonymous);
      expect(validationError(() => scanSteps([Anonymous])).message).toMatch(/has no name to derive a step id from: give it @Step\(\{ id \}\)/);
    });
  });

  it('leaves graph errors (a cycle through decorators) to the constructor, which names the cycle', () => {
    @Step()
    @DependsOn(() => PongStep)
    class PingStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    @Step()
    @DependsOn(PingStep)
    class PongStep extends BaseStep {
      execute() {
        return 2;
      }
    }
    expect(() => Pipeline.fromSteps({ name: 'loop', steps: [PingStep, PongStep] })).toThrow(/Dependency graph has a cycle: /);
  });
});

describe('new Pipeline({ steps }) with @Step classes', () => {
  it('runs @Step classes under their ids, with typed getDependency by class', async () => {
    const pipeline = new Pipeline({
      name: 'plain',
      steps: { extract: ExtractStep, classify: ClassifyStep },
      dependencies: { classify: ['extract'] },
    });
    expect((await pipeline.execute({ document: 'a b' })).output).toBe('short');
  });

  it("adds a class's @DependsOn to dependencies", () => {
    const pipeline = new Pipeline({ name: 'plain', steps: { extract: ExtractStep, classify: ClassifyStep } });
    expect(pipeline.levels).toEqual([['extract'], ['classify']]);
  });

  it("adds the @DependsOn of an instance's @Step class, resolving classes given as instances", () => {
    const pipeline = new Pipeline({ name: 'plain', steps: { extract: new ExtractStep(), classify: new ClassifyStep() } });
    expect(pipeline.levels).toEqual([['extract'], ['classify']]);
  });

  it('rejects a @Step class under a key other than its id', () => {
    expect(validationError(() => new Pipeline({ name: 'plain', steps: { ocr: ExtractStep } })).message).toBe(
      "Step class ExtractStep is under the key 'ocr' but its step id is 'extract': use the key 'extract', or @Step({ id: 'ocr' })",
    );
  });

  it('keeps the given dependencies of a step and adds the declared ones', () => {
    const pipeline = new Pipeline({
      name: 'plain',
      steps: { extract: ExtractStep, other: { execute: () => 1 }, classify: ClassifyStep },
      dependencies: { classify: ['other'] },
    });
    expect(pipeline.levels).toEqual([['extract', 'other'], ['classify']]);
  });
});

describe('ids that are Object.prototype names', () => {
  it("adds @DependsOn for a step whose id is 'constructor'", () => {
    @Step({ id: 'constructor' })
    @DependsOn(ExtractStep)
    class BuildStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    expect(new Pipeline({ name: 'p', steps: { extract: ExtractStep, constructor: BuildStep } }).levels).toEqual([['extract'], ['constructor']]);
    expect(Pipeline.fromSteps({ name: 'p', steps: [ExtractStep, BuildStep] }).levels).toEqual([['extract'], ['constructor']]);
  });

  it("rejects the id '__proto__'", () => {
    @Step({ id: '__proto__' })
    class ProtoStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    expect(validationError(() => scanSteps([ProtoStep])).message).toBe("Step id '__proto__' is not allowed (ProtoStep)");
  });
});

describe('scanSteps: a misspelt @DependsOn id', () => {
  it('lists the known steps and suggests the nearest', () => {
    @Step()
    class FetchOrderStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    @Step()
    @DependsOn('fetchOrdr')
    class ShipOrderStep extends BaseStep {
      execute() {
        return 2;
      }
    }
    expect(shownMessageOf(validationError(() => scanSteps([FetchOrderStep, ShipOrderStep])))).toBe(
      "Step 'shipOrder' depends on unknown: 'fetchOrdr' (@DependsOn on ShipOrderStep). Known steps: ['fetchOrder', 'shipOrder']. Did you mean 'fetchOrder'?",
    );
  });
});
