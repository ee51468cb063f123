import { RetryWaits } from '../../src/executor/retry-waits';

describe('RetryWaits', () => {
  it('resolves true once the wait is over', async () => {
    await expect(new RetryWaits().wait(1)).resolves.toBe(true);
  });

  it('ends pending waits with false at once when cancelled, long before their time', async () => {
    const waits = new RetryWaits();
    const started = performance.now();
    const pending = [waits.wait(10_000), waits.wait(20_000)];
    waits.cancelAll();
    await expect(Promise.all(pending)).resolves.toEqual([false, false]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('answers false at once to a wait asked for after the cancellation', async () => {
    const waits = new RetryWaits();
    waits.cancelAll();
    await expect(waits.wait(10_000)).resolves.toBe(false);
  });
});
