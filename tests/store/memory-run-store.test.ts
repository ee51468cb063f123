import { MemoryRunStore } from 'fastroai';
import { describeRunStoreContract } from './run-store-contract';

describeRunStoreContract('MemoryRunStore', async ({ now }) => ({
  store: new MemoryRunStore({ now }),
  cleanup: async () => {},
}));

describe('MemoryRunStore', () => {
  it('reads the wall clock when given no clock', async () => {
    const store = new MemoryRunStore();
    const before = Date.now();
    await store.createRun({
      runId: 'r1', pipeline: 'p', fingerprint: 'f', input: '{}', status: 'running',
      createdAt: before, updatedAt: before, costMicrocents: 0, owner: 'o', epoch: 1, leaseUntil: 0,
    });
    const { run } = await store.claimRun('r1', 'o2', 1000);
    expect(run.leaseUntil).toBeGreaterThanOrEqual(before + 1000);
    expect(run.leaseUntil).toBeLessThanOrEqual(Date.now() + 1000);
  });
});
