import { createVirtualClock } from 'fastroai/testing';
import { rejectionOf } from '../support/async-helpers';

describe('createVirtualClock', () => {
  it('moves only when advanced: now() is startAt plus the virtual time, monotonicMs() the virtual time', () => {
    const clock = createVirtualClock({ startAt: 5_000 });
    expect([clock.now(), clock.monotonicMs()]).toEqual([5_000, 0]);
    clock.advance(250);
    expect([clock.now(), clock.monotonicMs()]).toEqual([5_250, 250]);
    expect(createVirtualClock().now()).toBe(1_700_000_000_000);
  });

  it('fires due timers earliest first, each at its own time; equal times in the order they were set', () => {
    const clock = createVirtualClock();
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.monotonicMs()}`);
    clock.setTimeout(at('late'), 300);
    clock.setTimeout(at('early'), 100);
    clock.setTimeout(at('tie-1'), 200);
    clock.setTimeout(at('tie-2'), 200);
    clock.setTimeout(at('beyond'), 1_000);
    clock.advance(300);
    expect(fired).toEqual(['early@100', 'tie-1@200', 'tie-2@200', 'late@300']);
    expect(clock.monotonicMs()).toBe(300);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires a timer a callback sets when it falls due in the same advance; a cleared timer never fires', () => {
    const clock = createVirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.monotonicMs()), 50), 100);
    const cleared = clock.setTimeout(() => fired.push(-1), 120);
    clock.clearTimeout(cleared);
    clock.advance(200);
    expect(fired).toEqual([150]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses to go back in time', () => {
    expect(() => createVirtualClock().advance(-1)).toThrow(RangeError);
  });

  it('whenTimersPending resolves once enough timers are set, and rejects in real time when they are not', async () => {
    const clock = createVirtualClock();
    const two = clock.whenTimersPending(2);
    let resolved = false;
    void two.then(() => (resolved = true));
    clock.setTimeout(() => undefined, 10);
    await Promise.resolve();
    expect(resolved).toBe(false);
    clock.setTimeout(() => undefined, 10);
    await two;
    await clock.whenTimersPending(1); // already pending: at once
    const error = await rejectionOf(clock.whenTimersPending(3, 20));
    expect(String(error)).toMatch(/2 timer\(s\) pending .* waited for 3/);
  });
});
