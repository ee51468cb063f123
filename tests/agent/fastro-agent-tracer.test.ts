import { FastroAgent, Pipeline, PipelineConfig, SimpleTracer, StepExecutionError, step, type Tracer } from 'fastroai';
import { useOpenAIServer } from '../support/use-openai-server';

const useServer = useOpenAIServer();

let warn: jest.SpyInstance;
beforeEach(() => {
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => warn.mockRestore());

/** A logger whose `level` method throws; the others record lines. */
function loggerThrowingOn(level: 'info' | 'error' | 'debug') {
  const lines: string[] = [];
  const logger = {
    info: (line: string) => void lines.push(line),
    error: (line: string) => void lines.push(line),
    debug: (line: string) => void lines.push(line),
  };
  logger[level] = () => {
    throw new Error(`logger.${level} is broken`);
  };
  return { logger, lines };
}

function askPipeline(agent: FastroAgent, config: ConstructorParameters<typeof PipelineConfig>[0] = {}) {
  return new Pipeline({ name: 'traced', steps: { ask: agent.asStep('Q') }, config: new PipelineConfig({ retries: 2, retryDelay: 0.01, ...config }) });
}

describe('a tracer or logger never changes the outcome of a model call, nor repeats it', () => {
  it('a SimpleTracer whose logger.debug (logMetric) throws: one request, the step completes, one warning', async () => {
    useServer().enqueue({ kind: 'json', content: 'paid once' });
    const { logger } = loggerThrowingOn('debug');
    const result = await askPipeline(new FastroAgent()).execute({}, undefined, new SimpleTracer(logger));
    expect(result.output).toBe('paid once');
    expect(useServer().requests).toHaveLength(1);
    expect(result.usage?.totalRequestCount).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/logger\.debug is broken/);
  });

  it('a tracer whose logMetric throws: one request, the call resolves', async () => {
    useServer().enqueue({ kind: 'json', content: 'ok' });
    const tracer: Tracer = {
      span: (_name, fn) => fn('trace-1'),
      logMetric: () => {
        throw new Error('metrics backend down');
      },
      logError: () => undefined,
    };
    const response = await new FastroAgent().run('Q', { tracer });
    expect(response.output).toBe('ok');
    expect(useServer().requests).toHaveLength(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it.each<[string, Tracer['span']]>([
    [
      'throws synchronously',
      () => {
        throw new Error('span broken');
      },
    ],
    ['never calls fn and resolves', async () => undefined as never],
    ['rejects without calling fn', async () => Promise.reject(new Error('span broken'))],
    ['awaits before calling fn', async (_name, fn) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return fn('trace-late');
    }],
    ['calls fn twice', async (_name, fn) => {
      await fn('trace-a');
      return fn('trace-b');
    }],
    ['rejects after fn succeeded', async (_name, fn) => {
      await fn('trace-x');
      throw new Error('exporter failed');
    }],
    ['resolves to another value', async (_name, fn) => {
      await fn('trace-y');
      return 'not the response' as never;
    }],
  ])('a tracer whose span %s: exactly one request, and the response is the call\'s own', async (_name, span) => {
    useServer().enqueue({ kind: 'json', content: 'the answer' });
    const tracer: Tracer = { span, logMetric: () => undefined, logError: () => undefined };
    const response = await new FastroAgent().run('Q', { tracer });
    expect(response.output).toBe('the answer');
    expect(useServer().requests).toHaveLength(1);
  });

  it('a SimpleTracer whose logger.info throws does not change a successful run', async () => {
    useServer().enqueue({ kind: 'json', content: 'fine' });
    const { logger } = loggerThrowingOn('info');
    const result = await askPipeline(new FastroAgent()).execute({}, undefined, new SimpleTracer(logger));
    expect(result.output).toBe('fine');
    expect(useServer().requests).toHaveLength(1);
  });

  it("a SimpleTracer whose logger.error throws keeps a failed run's StepExecutionError", async () => {
    useServer().fallback = () => ({ kind: 'error', status: 401, message: 'Incorrect API key provided' });
    const { logger } = loggerThrowingOn('error');
    const error = await askPipeline(new FastroAgent())
      .execute({}, undefined, new SimpleTracer(logger))
      .catch((caught: unknown) => caught);
    expect(StepExecutionError.isInstance(error)).toBe(true);
    expect((error as StepExecutionError).originalError.message).toMatch(/Incorrect API key/);
    expect(useServer().requests).toHaveLength(1);
  });

  it("a SimpleTracer whose logger.error throws does not change an onError 'continue' run", async () => {
    useServer().fallback = () => ({ kind: 'error', status: 400, message: 'bad request' });
    const { logger } = loggerThrowingOn('error');
    const pipeline = new Pipeline({
      name: 'continue',
      steps: { ask: new FastroAgent().asStep('Q'), other: step(() => 'done') },
      outputStep: 'other',
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({}, undefined, new SimpleTracer(logger));
    expect(result.output).toBe('done');
    expect(Object.keys(result.errors)).toEqual(['ask']);
    expect(StepExecutionError.isInstance(result.errors.ask)).toBe(true);
    expect((result.errors.ask as StepExecutionError).originalError.message).toMatch(/bad request/);
  });
});
