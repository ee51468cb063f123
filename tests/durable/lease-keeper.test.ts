import { MemoryRunStore, StoreUnavailableError } from 'fastroai';
import { createVirtualClock } from 'fastroai/testing';
import { LeaseKeeper } from '../../src/durable/lease-keeper';
import { flush } from '../support/async-helpers';
import { makeRunRecord } from '../store/run-store-contract';

const LEASE_MS = 3_000;

async function keeperOn(renewLease?: () => Promise<boolean>) {
  const clock = createVirtualClock();
  const store = new MemoryRunStore({ now: () => clock.now() });
  await store.createRun(makeRunRecord('r1', { owner: 'me', epoch: 1, leaseUntil: clock.now() + LEASE_MS }));
  let renewals = 0;
  const counted = Object.assign(Object.create(store) as MemoryRunStore, {
    renewLease: (...args: Parameters<MemoryRunStore['renewLease']>) => (renewals++, renewLease?.() ?? store.renewLease(...args)),
  });
  const lost: Error[] = [];
  const keeper = new LeaseKeeper(counted, 'r1', 'me', 1, LEASE_MS, (error) => lost.push(error), clock);
  keeper.start();
  return { clock, keeper, lost, renewals: () => renewals };
}

describe('LeaseKeeper', () => {
  it('renews every third of the lease', async () => {
    const { clock, keeper, lost, renewals } = await keeperOn();
    for (let tick = 0; tick < 3; tick++) {
      clock.advance(LEASE_MS / 3);
      await flush();
    }
    expect(renewals()).toBe(3);
    expect(lost).toEqual([]);
    await keeper.stop();
  });

  it('a keeper that comes late (its event loop was blocked past the lease) renews instead of stopping the run', async () => {
    // A clock whose timer fires when the test says: here, long after it was due.
    let nowMs = 1_000_000;
    let due: (() => void) | undefined;
    const clock = { now: () => nowMs, monotonicMs: () => nowMs, setTimeout: (callback: () => void) => ((due = callback), 1), clearTimeout: () => undefined };
    const store = new MemoryRunStore({ now: () => nowMs });
    await store.createRun(makeRunRecord('r1', { owner: 'me', epoch: 1, leaseUntil: nowMs + LEASE_MS }));
    const lost: Error[] = [];
    const keeper = new LeaseKeeper(store, 'r1', 'me', 1, LEASE_MS, (error) => lost.push(error), clock);
    keeper.start();
    nowMs += LEASE_MS * 2; // the first check comes two leases late
    due!();
    await flush();
    expect(lost).toEqual([]);
    expect((await store.getRun('r1'))!.run.leaseUntil).toBe(nowMs + LEASE_MS); // renewed: nobody had taken the run
    await keeper.stop();
  });

  it('a lease whose last renewal failed stops the run at the first check past its end, before renewing again', async () => {
    const { clock, lost, renewals } = await keeperOn(() => Promise.reject(new Error('connection reset')));
    clock.advance(LEASE_MS / 3); // renewal 1 fails
    await flush();
    clock.advance(LEASE_MS / 3); // renewal 2 fails
    await flush();
    clock.advance(LEASE_MS / 3); // the lease's end: stopped, no third renewal
    await flush();
    expect(lost).toHaveLength(1);
    expect(StoreUnavailableError.isInstance(lost[0])).toBe(true);
    expect(lost[0].message).toMatch(/the lease could not be renewed before it ran out \(3 s\)/);
    expect(renewals()).toBe(2);
  });

  it('asks the store at each renewal whether the run was asked to cancel, reports a reason once, and keeps renewing', async () => {
    const clock = createVirtualClock();
    const store = new MemoryRunStore({ now: () => clock.now() });
    await store.createRun(makeRunRecord('r1', { owner: 'me', epoch: 1, leaseUntil: clock.now() + LEASE_MS }));
    let asked = 0;
    let failNext = false;
    const counted = Object.assign(Object.create(store) as MemoryRunStore, {
      cancelRequested: (...args: Parameters<MemoryRunStore['cancelRequested']>) => {
        asked++;
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('connection reset'));
        }
        return store.cancelRequested(...args);
      },
    });
    const cancels: string[] = [];
    const lost: Error[] = [];
    const keeper = new LeaseKeeper(counted, 'r1', 'me', 1, LEASE_MS, (error) => lost.push(error), clock, undefined, (reason) => cancels.push(reason));
    keeper.start();
    const check = async () => {
      clock.advance(LEASE_MS / 3);
      await flush();
    };
    await check();
    expect([asked, cancels]).toEqual([1, []]);
    failNext = true; // a failed ask is asked again at the next renewal
    await check();
    expect(await store.requestCancel('r1', 'from the inspector')).toBe('requested');
    await check();
    expect([asked, cancels]).toEqual([3, ['from the inspector']]);
    await check();
    await check();
    expect([asked, cancels, lost]).toEqual([3, ['from the inspector'], []]);
    expect((await store.getRun('r1'))!.run.leaseUntil).toBe(clock.now() + LEASE_MS); // still renewed while the run drains
    await keeper.stop();
  });

  it('asks again once an ask for a cancellation went unanswered for 60 s (a store that hangs)', async () => {
    const clock = createVirtualClock();
    const store = new MemoryRunStore({ now: () => clock.now() });
    await store.createRun(makeRunRecord('r1', { owner: 'me', epoch: 1, leaseUntil: clock.now() + LEASE_MS }));
    let asked = 0;
    const hanging = Object.assign(Object.create(store) as MemoryRunStore, {
      cancelRequested: (...args: Parameters<MemoryRunStore['cancelRequested']>) => (++asked === 1 ? new Promise<never>(() => undefined) : store.cancelRequested(...args)),
    });
    const cancels: string[] = [];
    const keeper = new LeaseKeeper(hanging, 'r1', 'me', 1, LEASE_MS, () => undefined, clock, undefined, (reason) => cancels.push(reason));
    keeper.start();
    await store.requestCancel('r1', 'stop');
    for (let tick = 0; tick < 60; tick++) {
      clock.advance(LEASE_MS / 3);
      await flush();
    }
    expect([asked, cancels]).toEqual([1, []]); // asked at 1 s; at 60 s it is still awaited
    clock.advance(LEASE_MS / 3);
    await flush();
    expect([asked, cancels]).toEqual([2, ['stop']]);
    await keeper.stop();
  });
});
