import { BaseStep, DependsOn, Pipeline, Step, type StepContext } from 'fastroai';
import { readDependsOnMetadata } from '../../decorators/metadata';

describe('@DependsOn', () => {
  it('records ids, classes and thunks as given', () => {
    @Step()
    class AStep extends BaseStep {
      execute() {
        return 'a';
      }
    }
    const thunk = () => AStep;
    @Step()
    @DependsOn('x', AStep, thunk)
    class BStep extends BaseStep {
      execute() {
        return 'b';
      }
    }
    expect(readDependsOnMetadata(BStep)).toEqual(['x', AStep, thunk]);
  });

  it('adds up when repeated, in source order (top to bottom)', () => {
    @Step()
    @DependsOn('a')
    @DependsOn('b', 'c')
    @DependsOn('d')
    class EStep extends BaseStep {
      execute() {
        return 'e';
      }
    }
    expect(readDependsOnMetadata(EStep)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('records nothing on a class without it', () => {
    @Step()
    class LoneStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    expect(readDependsOnMetadata(LoneStep)).toEqual([]);
  });

  it('works above or below @Step', () => {
    @DependsOn('a')
    @Step()
    class AboveStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    @Step()
    @DependsOn('a')
    class BelowStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    expect(readDependsOnMetadata(AboveStep)).toEqual(['a']);
    expect(readDependsOnMetadata(BelowStep)).toEqual(['a']);
  });

  it('resolves a thunk to a class declared further down the file (a forward reference)', async () => {
    @Step()
    @DependsOn(() => ExtractStep)
    class ClassifyStep extends BaseStep<unknown, string> {
      execute(ctx: StepContext) {
        return `${ctx.getDependency(ExtractStep).length} words`;
      }
    }
    @Step()
    class ExtractStep extends BaseStep<unknown, string[]> {
      execute(ctx: StepContext) {
        return ctx.getInput<string>('document').split(' ');
      }
    }
    const pipeline = Pipeline.fromSteps({ name: 'forward', steps: [ClassifyStep, ExtractStep] });
    expect(pipeline.levels).toEqual([['extract'], ['classify']]);
    expect((await pipeline.execute({ document: 'one two three' })).output).toBe('3 words');
  });

  it('builds the same DAG from ids, classes and thunks', () => {
    const build = (reference: 'id' | 'class' | 'thunk') => {
      @Step()
      class SourceStep extends BaseStep {
        execute() {
          return 1;
        }
      }
      const dependency = reference === 'id' ? 'source' : reference === 'class' ? SourceStep : () => SourceStep;
      @Step()
      @DependsOn(dependency)
      class SinkStep extends BaseStep {
        execute() {
          return 2;
        }
      }
      return Pipeline.fromSteps({ name: reference, steps: [SinkStep, SourceStep] }).levels;
    };
    expect(build('id')).toEqual([['source'], ['sink']]);
    expect(build('class')).toEqual(build('id'));
    expect(build('thunk')).toEqual(build('id'));
  });

  it('counts a dependency named twice (by id and by class) once', () => {
    @Step()
    class AStep extends BaseStep {
      execute() {
        return 1;
      }
    }
    @Step()
    @DependsOn('a', AStep)
    @DependsOn(() => AStep)
    class BStep extends BaseStep {
      execute() {
        return 2;
      }
    }
    expect(Pipeline.fromSteps({ name: 'dup', steps: [AStep, BStep] }).toMermaid()).toBe(
      ['flowchart TD', '  s0["a"]', '  s1["b"]', '  s0 --> s1'].join('\n'),
    );
  });
});
