import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { CostCalculator, FastroAgent, OpenTelemetryTracer, Pipeline, step } from 'fastroai';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});

afterAll(async () => {
  context.disable();
  await provider.shutdown();
});

beforeEach(() => exporter.reset());

function tracer(): OpenTelemetryTracer {
  return new OpenTelemetryTracer(provider.getTracer('fastroai-tests'));
}

function spans(name?: string | RegExp): ReadableSpan[] {
  return exporter
    .getFinishedSpans()
    .filter((span) => name === undefined || (typeof name === 'string' ? span.name === name : name.test(span.name)));
}

function only(name: string): ReadableSpan {
  const found = spans(name);
  expect(found.map((span) => span.name)).toEqual([name]);
  return found[0];
}

function parentOf(span: ReadableSpan): ReadableSpan | undefined {
  const parentId = span.parentSpanContext?.spanId;
  return exporter.getFinishedSpans().find((candidate) => candidate.spanContext().spanId === parentId);
}

/** A mock model (the protocol does not matter here) that answers after `delayMs` with the given usage. */
function mockModel(modelId: string, delayMs: number, usage = { input: 100, output: 20 }): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    modelId,
    doGenerate: async (): Promise<LanguageModelV3GenerateResult> => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return {
        content: [{ type: 'text', text: `answer of ${modelId}` }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: {
          inputTokens: { total: usage.input, noCache: usage.input, cacheRead: 0, cacheWrite: undefined },
          outputTokens: { total: usage.output, text: usage.output, reasoning: undefined },
        },
        warnings: [],
      };
    },
  });
}

describe('OpenTelemetryTracer', () => {
  it("runs fn in a span and hands it the span's trace id", async () => {
    const result = await tracer().span('work', async (traceId) => `trace ${traceId}`, { stepId: 'a', attempt: 1 });
    const span = only('work');
    // A UUID, as every tracer's (API.md §10): the OpenTelemetry trace id with the UUID's dashes.
    expect(result).toMatch(/^trace [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(result.replace(/-/g, '')).toBe(`trace ${span.spanContext().traceId}`);
    expect(span.attributes).toEqual({ stepId: 'a', attempt: 1 });
    expect(span.status.code).toBe(SpanStatusCode.OK);
    expect(span.ended).toBe(true);
  });

  it('turns attribute values OpenTelemetry cannot hold into JSON, and drops undefined ones', async () => {
    await tracer().span('attrs', async () => undefined, { levels: [['a'], ['b']], tags: ['x', 'y'], missing: undefined });
    expect(only('attrs').attributes).toEqual({ levels: '[["a"],["b"]]', tags: ['x', 'y'] });
  });

  it('nests spans opened inside a span, across awaits', async () => {
    const t = tracer();
    await t.span('outer', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await t.span('inner', async () => undefined);
    });
    const inner = only('inner');
    expect(parentOf(inner)?.name).toBe('outer');
    expect(inner.spanContext().traceId).toBe(only('outer').spanContext().traceId);
  });

  it('records the exception and sets the error status when fn fails, and rethrows it', async () => {
    const failure = new Error('model exploded');
    await expect(tracer().span('failing', async () => Promise.reject(failure))).rejects.toBe(failure);
    const span = only('failing');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'model exploded' });
    const exception = span.events.find((event) => event.name === 'exception');
    expect(exception?.attributes?.['exception.message']).toBe('model exploded');
  });

  it('logMetric sets an attribute on the active span of the trace', async () => {
    const t = tracer();
    await t.span('measured', async (traceId) => {
      t.logMetric(traceId, 'input_tokens', 42);
      t.logMetric('0123456789abcdef0123456789abcdef', 'foreign', 1);
    });
    expect(only('measured').attributes).toEqual({ input_tokens: 42 });
  });

  it('logError records an exception event with its context', async () => {
    const t = tracer();
    await t.span('noted', async (traceId) => {
      t.logError(traceId, new Error('recoverable'), { stepId: 'x' });
    });
    const span = only('noted');
    expect(span.events.map((event) => event.name)).toEqual(['exception', 'fastroai.error.context']);
    expect(span.events[1].attributes).toEqual({ stepId: 'x' });
    expect(span.status.code).toBe(SpanStatusCode.OK);
  });

  it('uses the global tracer provider by default', async () => {
    trace.setGlobalTracerProvider(provider);
    try {
      await new OpenTelemetryTracer().span('global', async () => undefined);
      expect(only('global').instrumentationScope.name).toBe('fastroai');
    } finally {
      trace.disable();
    }
  });

  it('hands out a UUID trace id, shared by nested spans, when no provider is registered (no-op spans)', async () => {
    const tracer = new OpenTelemetryTracer();
    const [outer, inner] = await tracer.span('nothing', async (traceId) => [traceId, await tracer.span('inner', async (id) => id)]);
    expect(outer).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(inner).toBe(outer);
    expect(await tracer.span('again', async (traceId) => traceId)).not.toBe(outer);
  });

  describe('a backend that throws', () => {
    let warn: jest.SpyInstance;
    beforeEach(() => {
      warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    });
    afterEach(() => warn.mockRestore());

    /** An OpenTelemetry tracer whose spans throw from `method`, or whose startActiveSpan throws. */
    function brokenBackend(method: 'startActiveSpan' | 'end' | 'setStatus' | 'spanContext' | 'recordException' | 'setAttribute') {
      const real = provider.getTracer('broken');
      const breakSpan = (span: any) =>
        new Proxy(span, {
          get(target, key) {
            if (key === method) {
              return () => {
                throw new Error(`${method} broken`);
              };
            }
            const value = target[key];
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      return {
        startSpan: real.startSpan.bind(real),
        startActiveSpan(name: string, options: unknown, fn: (span: any) => unknown) {
          if (method === 'startActiveSpan') throw new Error('startActiveSpan broken');
          return real.startActiveSpan(name, options as never, (span) => fn(breakSpan(span)));
        },
      } as any;
    }

    it.each(['startActiveSpan', 'end', 'setStatus', 'spanContext'] as const)(
      'runs fn exactly once and returns its result when %s throws',
      async (method) => {
        const fn = jest.fn(async () => 'result');
        await expect(new OpenTelemetryTracer(brokenBackend(method)).span('work', fn)).resolves.toBe('result');
        expect(fn).toHaveBeenCalledTimes(1);
        expect(warn).toHaveBeenCalledTimes(1);
      },
    );

    it("rethrows fn's own error when recordException throws", async () => {
      const failure = new Error('model down');
      const fn = jest.fn(async () => {
        throw failure;
      });
      await expect(new OpenTelemetryTracer(brokenBackend('recordException')).span('work', fn)).rejects.toBe(failure);
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('never throws from logMetric or logError when the active span throws', () => {
      const throwing = () => {
        throw new Error('span broken');
      };
      const brokenSpan = { spanContext: () => ({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 }), setAttribute: throwing, recordException: throwing, addEvent: throwing };
      const otel = new OpenTelemetryTracer(provider.getTracer('x'));
      context.with(trace.setSpan(context.active(), brokenSpan as never), () => {
        expect(() => otel.logMetric('', 'input_tokens', 3)).not.toThrow();
        expect(() => otel.logError('', new Error('x'), { stepId: 'a' })).not.toThrow();
      });
      expect(warn).toHaveBeenCalledTimes(1);
    });
  });

  describe('a pipeline run', () => {
    it('nests pipeline.<name> → step.<id> → fastroai.agent.run correctly across parallel steps', async () => {
      const costCalculator = new CostCalculator({
        pricingOverrides: {
          'model-extract': { inputPerMtok: 1, outputPerMtok: 2 },
          'model-left': { inputPerMtok: 1, outputPerMtok: 2 },
          'model-right': { inputPerMtok: 1, outputPerMtok: 2 },
        },
      });
      // The parallel steps' calls overlap: left starts first and finishes last.
      const agent = (id: string, delayMs: number) => new FastroAgent({ model: mockModel(id, delayMs), costCalculator });
      const left = agent('model-left', 60);
      const right = agent('model-right', 10);
      const pipeline = new Pipeline({
        name: 'doc',
        steps: {
          extract: agent('model-extract', 5).asStep('extract'),
          left: step(async (ctx) => {
            const first = await ctx.run(left, 'left 1');
            await ctx.run(left, 'left 2');
            return first.output;
          }),
          right: step(async (ctx) => (await ctx.run(right, 'right')).output),
          join: step((ctx) => [ctx.getDependency('left'), ctx.getDependency('right')]),
        },
        dependencies: { left: ['extract'], right: ['extract'], join: ['left', 'right'] },
      });
      await pipeline.execute({}, undefined, tracer());

      const root = only('pipeline.doc');
      expect(root.parentSpanContext).toBeUndefined();
      const stepSpans = spans(/^step\./);
      expect(stepSpans.map((span) => span.name).sort()).toEqual(['step.extract', 'step.join', 'step.left', 'step.right']);
      for (const span of stepSpans) expect(parentOf(span)).toBe(root);

      const agentSpans = spans('fastroai.agent.run');
      expect(agentSpans).toHaveLength(4);
      const parentStepOf = (model: string) =>
        agentSpans.filter((span) => String(span.attributes.model).endsWith(`:${model}`)).map((span) => parentOf(span)?.name);
      expect(parentStepOf('model-extract')).toEqual(['step.extract']);
      expect(parentStepOf('model-left')).toEqual(['step.left', 'step.left']);
      expect(parentStepOf('model-right')).toEqual(['step.right']);

      for (const span of agentSpans) {
        expect(span.spanContext().traceId).toBe(root.spanContext().traceId);
        expect(span.attributes).toMatchObject({ message_history_length: 0, input_tokens: 100, output_tokens: 20, cost_microcents: 140 });
      }
    });

    it('records the failure on the agent, step and pipeline spans', async () => {
      const failing = new FastroAgent({
        model: new MockLanguageModelV3({
          modelId: 'broken',
          doGenerate: async () => {
            throw new Error('provider unavailable');
          },
        }),
      });
      const pipeline = new Pipeline({ name: 'broken', steps: { ask: failing.asStep('hello') } });
      await expect(pipeline.execute({}, undefined, tracer())).rejects.toThrow(/provider unavailable/);
      for (const name of ['fastroai.agent.run', 'step.ask', 'pipeline.broken']) {
        const span = only(name);
        expect(span.status.code).toBe(SpanStatusCode.ERROR);
        expect(span.events.some((event) => event.name === 'exception')).toBe(true);
      }
      expect(parentOf(only('fastroai.agent.run'))?.name).toBe('step.ask');
    });
  });
});

describe('OpenTelemetryTracer: a step attempt’s span ends with the attempt', () => {
  it('a step that ignores its signal past its timeout: its span has ended, with the timeout’s error, when the run rejects', async () => {
    let resume: (() => void) | undefined;
    const pipeline = new Pipeline({
      name: 'late',
      steps: { slow: step({ timeout: 0.05 }, () => new Promise<string>((resolve) => (resume = () => resolve('late')))) },
    });
    await expect(pipeline.execute({}, undefined, tracer())).rejects.toThrow(/timed out after 0.05s/);
    const span = only('step.slow');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toMatch(/timed out after 0.05s/);
    expect(parentOf(span)?.name).toBe('pipeline.late');
    resume!(); // the step's own promise settles later: nothing more is recorded
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(spans('step.slow')).toHaveLength(1);
  });

  it('a step that never settles, in a cancelled run: its span ends when the run is cancelled', async () => {
    const controller = new AbortController();
    const pipeline = new Pipeline({ name: 'stuck', steps: { hang: step(() => new Promise(() => undefined)) } });
    const running = pipeline.execute({}, undefined, { tracer: tracer(), signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('the user left'));
    await expect(running).rejects.toThrow(/was aborted/);
    expect(only('step.hang').status.code).toBe(SpanStatusCode.ERROR);
  });
});
