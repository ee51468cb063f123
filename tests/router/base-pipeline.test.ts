import { BasePipeline, FastroAIError, Pipeline, step, type Tracer } from 'fastroai';

type Input = { text: string };

class LengthRouter extends BasePipeline<{ threshold: number }, Input, string> {
  readonly routed: Array<{ input: Input; deps: { threshold: number } }> = [];
  route(input: Input, deps: { threshold: number }) {
    this.routed.push({ input, deps });
    return input.text.length > deps.threshold ? 'complex' : 'simple';
  }
}

function pipelineAnswering(answer: string) {
  return new Pipeline<{ threshold: number }, Input, string>({
    name: answer,
    steps: { answer: step((ctx) => `${answer}:${ctx.getInput<string>('text')}`) },
  });
}

describe('BasePipeline', () => {
  it('keeps its name', () => {
    expect(new LengthRouter('docs').name).toBe('docs');
  });

  it('runs the pipeline its route names, with the input and deps', async () => {
    const router = new LengthRouter('docs');
    router.registerPipeline('simple', pipelineAnswering('simple'));
    router.registerPipeline('complex', pipelineAnswering('complex'));
    const deps = { threshold: 5 };
    expect((await router.execute({ text: 'hi' }, deps)).output).toBe('simple:hi');
    expect((await router.execute({ text: 'a long text' }, deps)).output).toBe('complex:a long text');
    expect(router.routed[0].deps).toBe(deps);
  });

  it('accepts an async route', async () => {
    class AsyncRouter extends BasePipeline<unknown, Input, string> {
      async route() {
        await Promise.resolve();
        return 'only';
      }
    }
    const router = new AsyncRouter('async');
    router.registerPipeline('only', pipelineAnswering('only') as never);
    expect((await router.execute({ text: 'x' })).output).toBe('only:x');
  });

  it("rejects an unregistered name with FastroAIError \"Unknown pipeline: 'x'. Registered: [...]\"", async () => {
    const router = new LengthRouter('docs');
    router.registerPipeline('simple', pipelineAnswering('simple'));
    router.registerPipeline('medium', pipelineAnswering('medium'));
    const error = await router.execute({ text: 'far too long' }, { threshold: 1 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FastroAIError);
    expect((error as Error).message).toBe("Unknown pipeline: 'complex'. Registered: ['simple', 'medium']");
  });

  it('lists no pipelines when none is registered', async () => {
    const router = new LengthRouter('empty');
    await expect(router.execute({ text: '' }, { threshold: 1 })).rejects.toThrow("Unknown pipeline: 'simple'. Registered: []");
  });

  it('replaces a pipeline registered again under the same name', async () => {
    const router = new LengthRouter('docs');
    router.registerPipeline('simple', pipelineAnswering('first'));
    router.registerPipeline('simple', pipelineAnswering('second'));
    expect((await router.execute({ text: 'x' }, { threshold: 5 })).output).toBe('second:x');
  });

  it('passes the tracer on to the chosen pipeline', async () => {
    const spans: string[] = [];
    const tracer: Tracer = {
      span: (name, fn) => {
        spans.push(name);
        return fn('trace');
      },
      logMetric: () => undefined,
      logError: () => undefined,
    };
    const router = new LengthRouter('docs');
    router.registerPipeline('simple', pipelineAnswering('simple'));
    await router.execute({ text: 'x' }, { threshold: 5 }, tracer);
    expect(spans).toEqual(['pipeline.simple', 'step.answer']);
  });

  it('propagates an error thrown by route', async () => {
    class BrokenRouter extends BasePipeline<unknown, Input, string> {
      route(): string {
        throw new Error('cannot decide');
      }
    }
    await expect(new BrokenRouter('b').execute({ text: '' })).rejects.toThrow('cannot decide');
  });
});
