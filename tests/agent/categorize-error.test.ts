import { APICallError, JSONParseError, LoadAPIKeyError, NoObjectGeneratedError, RetryError, TypeValidationError } from 'ai';
import { AgentTimeoutError, CostBudgetExceededError, ErrorCategory, StepTimeoutError } from 'fastroai';
import { categorizeError } from '../../src/agent/categorize-error';

const apiError = (statusCode: number | undefined, extra: Partial<ConstructorParameters<typeof APICallError>[0]> = {}) =>
  new APICallError({ message: `status ${statusCode}`, url: 'http://127.0.0.1/v1/chat/completions', requestBodyValues: {}, statusCode, ...extra });

describe('categorizeError', () => {
  it.each([408, 409, 429, 500, 502, 503, 504])('calls HTTP %i transient', (status) => {
    expect(categorizeError(apiError(status))).toBe(ErrorCategory.TRANSIENT);
  });

  it.each([400, 401, 403, 404, 422])('calls HTTP %i permanent', (status) => {
    expect(categorizeError(apiError(status))).toBe(ErrorCategory.PERMANENT);
  });

  it('calls a 429 that names an exhausted quota resource exhaustion, in the body or the parsed data', () => {
    const body = JSON.stringify({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } });
    expect(categorizeError(apiError(429, { responseBody: body }))).toBe(ErrorCategory.RESOURCE_EXHAUSTION);
    expect(categorizeError(apiError(429, { data: { error: { code: 'insufficient_quota' } } }))).toBe(ErrorCategory.RESOURCE_EXHAUSTION);
    expect(categorizeError(apiError(429, { responseBody: '{"error":{"code":"rate_limit_exceeded"}}' }))).toBe(ErrorCategory.TRANSIENT);
  });

  it("follows the SDK's isRetryable when there is no status (a connection that failed)", () => {
    expect(categorizeError(apiError(undefined, { isRetryable: true }))).toBe(ErrorCategory.TRANSIENT);
  });

  it('calls a missing API key and output that fails its schema permanent', () => {
    expect(categorizeError(new LoadAPIKeyError({ message: 'OpenAI API key is missing' }))).toBe(ErrorCategory.PERMANENT);
    const noObject = new NoObjectGeneratedError({
      message: 'no object',
      text: '{}',
      response: { id: 'x', timestamp: new Date(), modelId: 'gpt-4o' },
      usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } as never,
      finishReason: 'stop',
    });
    expect(categorizeError(noObject)).toBe(ErrorCategory.PERMANENT);
    expect(categorizeError(new TypeValidationError({ value: {}, cause: new Error('x') }))).toBe(ErrorCategory.PERMANENT);
    expect(categorizeError(new JSONParseError({ text: '{', cause: new Error('x') }))).toBe(ErrorCategory.PERMANENT);
  });

  it("categorizes an SDK RetryError by its last error", () => {
    const retry = (last: unknown) => new RetryError({ message: 'gave up', reason: 'maxRetriesExceeded', errors: [apiError(500), last] });
    expect(categorizeError(retry(apiError(503)))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(retry(apiError(401)))).toBe(ErrorCategory.PERMANENT);
  });

  it('calls timeouts and network errors transient, on the error or its cause', () => {
    expect(categorizeError(new AgentTimeoutError('openai:gpt-4o', 5))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(new StepTimeoutError('a', 5, 1))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(new DOMException('timed out', 'TimeoutError'))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(ErrorCategory.TRANSIENT);
    const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    expect(categorizeError(fetchFailed)).toBe(ErrorCategory.TRANSIENT);
  });

  it("calls undici's bare fetch failed / terminated, a premature close and the OpenAI and Anthropic SDKs' connection errors transient", async () => {
    expect(categorizeError(new TypeError('fetch failed'))).toBe(ErrorCategory.TRANSIENT);
    // A real one (connection refused), and one from another realm (fetch's errors come from
    // Node's own, not the test's under jest): recognized by name, not by instanceof.
    expect(categorizeError(await fetch('http://127.0.0.1:1/').then(() => undefined, (error: unknown) => error))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(Object.assign(Object.create(null), { name: 'TypeError', message: 'terminated' }))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(new TypeError('terminated', { cause: new Error('other side closed') }))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }))).toBe(ErrorCategory.TRANSIENT);
    class APIConnectionError extends Error {
      override name: string = 'APIConnectionError';
    }
    class APIConnectionTimeoutError extends APIConnectionError {
      override name = 'APIConnectionTimeoutError';
    }
    expect(categorizeError(new APIConnectionError('Connection error.'))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(new APIConnectionTimeoutError('Request timed out.'))).toBe(ErrorCategory.TRANSIENT);
    // Not by message alone: a TypeError of a bug stays unknown, and a 401 behind a fetch failed stays permanent.
    expect(categorizeError(new TypeError('x is not a function'))).toBe(ErrorCategory.UNKNOWN);
    expect(categorizeError(new TypeError('fetch failed', { cause: Object.assign(new Error('no'), { status: 401 }) }))).toBe(ErrorCategory.PERMANENT);
  });

  it('reads a status or statusCode field of any client', () => {
    expect(categorizeError(Object.assign(new Error('x'), { status: 503 }))).toBe(ErrorCategory.TRANSIENT);
    expect(categorizeError(Object.assign(new Error('x'), { statusCode: 401 }))).toBe(ErrorCategory.PERMANENT);
  });

  it('calls a spent budget resource exhaustion', () => {
    expect(categorizeError(new CostBudgetExceededError(100, 120, 'a'))).toBe(ErrorCategory.RESOURCE_EXHAUSTION);
  });

  it('calls anything else unknown, and survives a cause cycle', () => {
    expect(categorizeError(new Error('something'))).toBe(ErrorCategory.UNKNOWN);
    expect(categorizeError('a string')).toBe(ErrorCategory.UNKNOWN);
    expect(categorizeError(undefined)).toBe(ErrorCategory.UNKNOWN);
    const cyclic: { cause?: unknown } = new Error('loop');
    cyclic.cause = cyclic;
    expect(categorizeError(cyclic)).toBe(ErrorCategory.UNKNOWN);
  });
});
