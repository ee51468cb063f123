import { StoreUnavailableError } from 'fastroai';
import { retryStoreCall, type StoreRetryPolicy } from '../../src/store/retry-store-call';

const busy = Object.assign(new Error('database is locked'), { code: 'BUSY' });

function policy(overrides: Partial<StoreRetryPolicy> = {}): StoreRetryPolicy {
  return { storeName: 'test:store', attempts: 3, firstDelayMs: 1, isTransient: (error) => error === busy, ...overrides };
}

describe('retryStoreCall', () => {
  it('returns the first success after transient failures', async () => {
    let calls = 0;
    const result = await retryStoreCall(policy(), 'r1', () => {
      calls++;
      if (calls < 3) throw busy;
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('gives up after the bounded attempts with StoreUnavailableError naming the store and the run', async () => {
    let calls = 0;
    const error = await retryStoreCall(policy(), 'r1', async () => {
      calls++;
      throw busy;
    }).catch((thrown: unknown) => thrown);
    expect(calls).toBe(3);
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ storeName: 'test:store', runId: 'r1', cause: busy });
    expect((error as Error).message).toBe("Run store test:store is unavailable for run 'r1': database is locked");
  });

  it('passes any other error through at once', async () => {
    let calls = 0;
    const other = new RangeError('not a store failure');
    await expect(
      retryStoreCall(policy(), 'r1', () => {
        calls++;
        throw other;
      }),
    ).rejects.toBe(other);
    expect(calls).toBe(1);
  });

  it('does not retry a store that is unavailable for good', async () => {
    let calls = 0;
    const error = await retryStoreCall(policy({ isUnavailable: () => true }), undefined, () => {
      calls++;
      throw new TypeError('The database connection is not open');
    }).catch((thrown: unknown) => thrown);
    expect(calls).toBe(1);
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as StoreUnavailableError).runId).toBeUndefined();
  });
});
