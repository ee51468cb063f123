import { NoOpTracer, Pipeline, SimpleTracer, step, type Tracer } from 'fastroai';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function fakeLogger() {
  return { info: jest.fn(), error: jest.fn(), debug: jest.fn() };
}

describe('SimpleTracer', () => {
  it('runs fn inside the span with a fresh trace id and returns its result', async () => {
    const tracer = new SimpleTracer(fakeLogger());
    const ids: string[] = [];
    const result = await tracer.span('work', async (traceId) => {
      ids.push(traceId);
      return 42;
    });
    await tracer.span('work', async (traceId) => void ids.push(traceId));
    expect(result).toBe(42);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it('logs the start and the end of a span with its duration, prefixed by the short trace id', async () => {
    const logger = fakeLogger();
    const tracer = new SimpleTracer(logger);
    let traceId = '';
    await tracer.span('pipeline.doc', async (id) => void (traceId = id), { pipeline: 'doc' });
    const short = traceId.slice(0, 8);
    expect(logger.info).toHaveBeenCalledTimes(2);
    expect(logger.info.mock.calls[0][0]).toBe(`[${short}] Starting pipeline.doc`);
    expect(logger.info.mock.calls[0][1]).toMatchObject({ traceId, span: 'pipeline.doc', pipeline: 'doc' });
    expect(logger.info.mock.calls[1][0]).toMatch(new RegExp(`^\\[${short}\\] Completed pipeline\\.doc in \\d+\\.\\d{3}s$`));
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('logs a failed span and re-throws the same error', async () => {
    const logger = fakeLogger();
    const tracer = new SimpleTracer(logger);
    const failure = new Error('model down');
    await expect(
      tracer.span('step.a', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0][0]).toMatch(/^\[[0-9a-f]{8}\] FAILED step\.a after \d+\.\d{3}s: model down$/);
    expect(logger.error.mock.calls[0][1]).toMatchObject({ error: failure });
  });

  it('logs metrics at debug level', () => {
    const logger = fakeLogger();
    new SimpleTracer(logger).logMetric('0123456789abcdef', 'input_tokens', 120);
    expect(logger.debug).toHaveBeenCalledWith('[01234567] Metric input_tokens=120', {
      traceId: '0123456789abcdef',
      metricName: 'input_tokens',
      metricValue: 120,
    });
  });

  it('logs errors with their context, Error or not', () => {
    const logger = fakeLogger();
    const tracer = new SimpleTracer(logger);
    tracer.logError('abcdef0123', new Error('bad'), { stepId: 'a' });
    tracer.logError('abcdef0123', 'plain string');
    expect(logger.error.mock.calls[0][0]).toBe('[abcdef01] Error: bad');
    expect(logger.error.mock.calls[0][1]).toMatchObject({ traceId: 'abcdef0123', stepId: 'a' });
    expect(logger.error.mock.calls[1][0]).toBe('[abcdef01] Error: plain string');
  });

  it('logs to console by default', async () => {
    const info = jest.spyOn(console, 'info').mockImplementation(() => undefined);
    try {
      await new SimpleTracer().span('x', async () => 1);
      expect(info).toHaveBeenCalledTimes(2);
    } finally {
      info.mockRestore();
    }
  });

  it('hands spans opened inside a span, also after awaits and in parallel, the outer trace id (API.md §10)', async () => {
    const tracer = new SimpleTracer(fakeLogger());
    const seen: string[] = [];
    const outer = await tracer.span('outer', async (id) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await Promise.all(
        ['a', 'b'].map((name) =>
          tracer.span(name, async (inner) => {
            seen.push(inner, await tracer.span('deep', async (deep) => deep));
          }),
        ),
      );
      return id;
    });
    expect(outer).toMatch(UUID);
    expect(seen).toEqual([outer, outer, outer, outer]);
    // A span opened after the outer one ended starts a trace of its own.
    expect(await tracer.span('later', async (id) => id)).not.toBe(outer);
  });

  it('gives every line of a pipeline run one trace id, and each run its own', async () => {
    const logger = fakeLogger();
    const tracer = new SimpleTracer(logger);
    const pipeline = new Pipeline({ name: 'doc', steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    await pipeline.execute({}, undefined, tracer);
    await pipeline.execute({}, undefined, tracer);
    const ids = logger.info.mock.calls.map((call) => (call[1] as { traceId: string }).traceId);
    expect(ids).toHaveLength(12);
    expect(new Set(ids.slice(0, 6)).size).toBe(1);
    expect(new Set(ids.slice(6)).size).toBe(1);
    expect(ids[6]).not.toBe(ids[0]);
  });

  it('traces a pipeline run: the pipeline span opens first and closes last', async () => {
    const logger = fakeLogger();
    const pipeline = new Pipeline({ name: 'doc', steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    await pipeline.execute({}, undefined, new SimpleTracer(logger));
    const lines = logger.info.mock.calls.map((call) => String(call[0]).replace(/^\[[0-9a-f]{8}\] /, '').replace(/ in .*$/, ''));
    expect(lines).toEqual(['Starting pipeline.doc', 'Starting step.a', 'Completed step.a', 'Starting step.b', 'Completed step.b', 'Completed pipeline.doc']);
  });
});

describe('SimpleTracer with a logger that throws', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  const broken = (...levels: Array<'info' | 'error' | 'debug'>) => {
    const logger = fakeLogger();
    for (const level of levels) {
      logger[level].mockImplementation(() => {
        throw new Error(`${level} broken`);
      });
    }
    return logger;
  };

  it('runs fn exactly once and returns its result when logger.info throws before and after', async () => {
    const fn = jest.fn(async () => 'result');
    await expect(new SimpleTracer(broken('info')).span('work', fn)).resolves.toBe('result');
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("rethrows fn's own error when logger.error throws too", async () => {
    const failure = new Error('model down');
    const fn = jest.fn(async () => {
      throw failure;
    });
    await expect(new SimpleTracer(broken('info', 'error')).span('work', fn)).rejects.toBe(failure);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('never throws from logMetric or logError', () => {
    const tracer = new SimpleTracer(broken('debug', 'error'));
    expect(() => tracer.logMetric('id', 'input_tokens', 1)).not.toThrow();
    expect(() => tracer.logError('id', new Error('x'))).not.toThrow();
  });

  it('never throws on a value whose message getter throws', () => {
    const hostile = Object.defineProperty(new Error('x'), 'message', {
      get() {
        throw new Error('no message for you');
      },
    });
    expect(() => new SimpleTracer(fakeLogger()).logError('id', hostile)).not.toThrow();
  });

  it('reports the first failure of a tracer once with console.warn, and no later ones', async () => {
    const tracer = new SimpleTracer(broken('info', 'debug'));
    await tracer.span('a', async () => 1);
    tracer.logMetric('id', 'm', 1);
    await tracer.span('b', async () => 2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/SimpleTracer logger\.info threw and was ignored .*: info broken/);
    new SimpleTracer(broken('debug')).logMetric('id', 'm', 1);
    expect(warn).toHaveBeenCalledTimes(2);
  });
});

describe('NoOpTracer', () => {
  it('runs fn and returns its result', async () => {
    await expect(new NoOpTracer().span('x', async () => 'value')).resolves.toBe('value');
  });

  it('passes the failure of fn through', async () => {
    const failure = new Error('x');
    await expect(
      new NoOpTracer().span('x', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it('ignores metrics and errors', () => {
    const tracer: Tracer = new NoOpTracer();
    expect(() => tracer.logMetric('id', 'm', 1)).not.toThrow();
    expect(() => tracer.logError('id', new Error('x'))).not.toThrow();
  });

  it('takes every parameter of Tracer when typed as a NoOpTracer', async () => {
    const tracer: NoOpTracer = new NoOpTracer();
    tracer.logMetric('id', 'input_tokens', 1);
    tracer.logError('id', new Error('x'), { stepId: 'a' });
    await expect(tracer.span('x', async () => 1, { stepId: 'a' })).resolves.toBe(1);
  });

  it('hands fn a new UUID trace id outside any span (API.md §10)', async () => {
    const tracer = new NoOpTracer();
    const first = await tracer.span('x', async (id) => id);
    expect(first).toMatch(UUID);
    expect(await tracer.span('x', async (id) => id)).not.toBe(first);
  });

  it('hands fn the trace id of the span it is opened in', async () => {
    const noop = new NoOpTracer();
    const simple = new SimpleTracer(fakeLogger());
    const [outer, inner] = await simple.span('run', async (id) => [id, await noop.span('call', async (nested) => nested)]);
    expect(inner).toBe(outer);
  });

  it('shares its own trace id with the spans opened inside its span (API.md §10)', async () => {
    const noop = new NoOpTracer();
    const [outer, inner, deeper] = await noop.span('run', async (id) => [
      id,
      await noop.span('step', async (nested) => nested),
      await noop.span('step', async () => new SimpleTracer(fakeLogger()).span('call', async (nested) => nested)),
    ]);
    expect(outer).toMatch(UUID);
    expect(inner).toBe(outer);
    expect(deeper).toBe(outer);
  });

  it('ties a run and its steps together when given to execute', async () => {
    const ids: string[] = [];
    const tracer = new NoOpTracer();
    const span = tracer.span.bind(tracer);
    tracer.span = (name, fn, attributes) => span(name, (id) => (ids.push(id), fn(id)), attributes);
    const pipeline = new Pipeline({ name: 'tied', steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    await pipeline.execute({}, undefined, tracer);
    expect(ids).toHaveLength(3); // pipeline.tied, step.a, step.b
    expect(new Set(ids).size).toBe(1);
  });
});

