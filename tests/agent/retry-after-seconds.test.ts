import { APICallError, RetryError } from 'ai';
import { retryAfterSeconds } from '../../src/agent/retry-after-seconds';

const withHeaders = (responseHeaders: Record<string, string>) =>
  new APICallError({ message: 'rate limited', url: 'http://127.0.0.1', requestBodyValues: {}, statusCode: 429, responseHeaders });

describe('retryAfterSeconds', () => {
  it('reads retry-after in seconds, fractions included', () => {
    expect(retryAfterSeconds(withHeaders({ 'retry-after': '2' }))).toBe(2);
    expect(retryAfterSeconds(withHeaders({ 'retry-after': '0.5' }))).toBe(0.5);
  });

  it('reads retry-after as an HTTP date', () => {
    const now = Date.parse('Fri, 27 Nov 2026 07:00:00 GMT');
    expect(retryAfterSeconds(withHeaders({ 'retry-after': 'Fri, 27 Nov 2026 07:00:30 GMT' }), now)).toBe(30);
    expect(retryAfterSeconds(withHeaders({ 'retry-after': 'Fri, 27 Nov 2026 06:59:00 GMT' }), now)).toBe(0);
  });

  it('prefers retry-after-ms', () => {
    expect(retryAfterSeconds(withHeaders({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(0.25);
  });

  it('ignores what it cannot read, and errors without headers', () => {
    expect(retryAfterSeconds(withHeaders({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterSeconds(withHeaders({ 'retry-after-ms': '-5' }))).toBeUndefined();
    expect(retryAfterSeconds(withHeaders({}))).toBeUndefined();
    expect(retryAfterSeconds(new Error('plain'))).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });

  it("reads a RetryError's last error, and other clients' headers without case", () => {
    const retry = new RetryError({ message: 'gave up', reason: 'maxRetriesExceeded', errors: [withHeaders({ 'retry-after': '3' })] });
    expect(retryAfterSeconds(retry)).toBe(3);
    expect(retryAfterSeconds(Object.assign(new Error('x'), { headers: { 'Retry-After': '4' } }))).toBe(4);
    expect(retryAfterSeconds(Object.assign(new Error('x'), { headers: new Headers({ 'retry-after': '5' }) }))).toBe(5);
  });
});
