import { backoffSeconds, callRetryDelaySeconds } from '../../src/context/retry-policy';
import { MAX_TIMER_MS } from '../../src/config/max-timer-seconds';

describe('backoffSeconds', () => {
  it('doubles retryDelay per attempt', () => {
    expect([1, 2, 3].map((attempt) => backoffSeconds(0.5, attempt))).toEqual([0.5, 1, 2]);
  });

  it('never exceeds 2^31-1 ms, which Node would clamp to 1 ms', () => {
    expect(backoffSeconds(1, 40)).toBe(MAX_TIMER_MS / 1000);
    expect(backoffSeconds(2_000_000, 2)).toBe(MAX_TIMER_MS / 1000);
    expect(backoffSeconds(1, 2_000)).toBe(MAX_TIMER_MS / 1000); // 2 ** 1999 is Infinity
  });
});

describe('callRetryDelaySeconds', () => {
  it('waits a Retry-After when it is longer than the backoff', () => {
    expect(callRetryDelaySeconds(0.1, 1, 2)).toBe(2);
  });

  it('keeps the backoff when it is longer', () => {
    expect(callRetryDelaySeconds(4, 2, 2)).toBe(8);
    expect(callRetryDelaySeconds(0.1, 1, undefined)).toBe(0.1);
  });

  it('caps a Retry-After at 60 s', () => {
    expect(callRetryDelaySeconds(0.1, 1, 3_600)).toBe(60);
  });
});
