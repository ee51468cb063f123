import { backoffSeconds } from '../../src/context/retry-policy';
import { MAX_TIMER_SECONDS } from '../../src/config/max-timer-seconds';

describe('backoffSeconds', () => {
  it('doubles from retryDelay: retryDelay * 2 ** (attempt - 1)', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffSeconds(0.5, attempt))).toEqual([0.5, 1, 2, 4]);
  });

  it('never grows past what a Node timer can wait (2^31-1 ms), which would fire at once', () => {
    expect(MAX_TIMER_SECONDS).toBe(2_147_483.647);
    expect(backoffSeconds(2_000_000, 2)).toBe(MAX_TIMER_SECONDS);
    expect(backoffSeconds(1, 1_100)).toBe(MAX_TIMER_SECONDS);
    expect(backoffSeconds(1_000_000, 2)).toBe(2_000_000);
  });
});
