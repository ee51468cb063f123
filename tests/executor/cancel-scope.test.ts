import { getEventListeners } from 'node:events';
import { CancelScope } from '../../src/executor/cancel-scope';
import { createVirtualClock } from 'fastroai/testing';

/** A clock on virtual time (fastroai/testing's): `advance` fires due timers in order. */
function virtualClock() {
  const clock = createVirtualClock();
  return { clock, advance: (ms: number) => clock.advance(ms), pending: () => clock.pendingTimers };
}

describe('CancelScope', () => {
  it('aborts a child with its own reason when its own deadline comes first', () => {
    const { clock, advance } = virtualClock();
    const root = CancelScope.root(undefined, clock);
    const step = root.child(1000, () => 'step timeout');
    const call = step.child(100, () => 'call timeout');
    advance(100);
    expect(call.reason).toBe('call timeout');
    expect(step.isAborted).toBe(false);
  });

  it("the parent's deadline wins a tie by value, whichever timer was set first", () => {
    const { clock, advance, pending } = virtualClock();
    const root = CancelScope.root(undefined, clock);
    const step = root.child(1000, () => 'step timeout');
    advance(400);
    // The call's own bound (600 ms) ends exactly at the step's deadline: it sets no timer.
    const call = step.child(600, () => 'call timeout');
    expect(pending()).toBe(1);
    expect(call.deadlineMs).toBe(1000);
    advance(600);
    expect(call.reason).toBe('step timeout');
    // A longer bound than what the step has left: the step's deadline too.
    const longer = root.child(1000, () => 'step 2').child(5000, () => 'call 2');
    advance(1000);
    expect(longer.reason).toBe('step 2');
  });

  it('aborting a parent aborts every descendant with its reason, and clears their timers', () => {
    const { clock, pending } = virtualClock();
    const root = CancelScope.root(undefined, clock);
    const a = root.child(1000);
    const b = a.child(500);
    const signal = b.signal;
    expect(pending()).toBe(2);
    root.abort('run failed');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('run failed');
    expect(pending()).toBe(0);
    expect(a.child(10).reason).toBe('run failed');
  });

  it('a root follows an external signal, and stops listening once disposed', () => {
    const controller = new AbortController();
    const root = CancelScope.root(controller.signal);
    const child = root.child();
    controller.abort('caller cancelled');
    expect(child.reason).toBe('caller cancelled');
    const other = new AbortController();
    const disposed = CancelScope.root(other.signal);
    disposed.dispose();
    other.abort('late');
    expect(disposed.isAborted).toBe(false);
  });

  it('dispose clears the timer without aborting and detaches from the parent', () => {
    const { clock, advance, pending } = virtualClock();
    const root = CancelScope.root(undefined, clock);
    const call = root.child(100, () => 'late');
    call.dispose();
    expect(pending()).toBe(0);
    advance(1000);
    expect(call.isAborted).toBe(false);
    root.abort('x');
    expect(call.isAborted).toBe(false);
  });

  it('sleep resolves after its time, and rejects at once when the scope aborts', async () => {
    const { clock, advance } = virtualClock();
    const root = CancelScope.root(undefined, clock);
    const slept = root.sleep(50);
    advance(50);
    await expect(slept).resolves.toBeUndefined();
    const interrupted = root.sleep(50);
    root.abort('stop');
    await expect(interrupted).rejects.toBe('stop');
  });

  it('a sleep past the deadline is cut at the deadline with the deadline reason', async () => {
    const { clock, advance } = virtualClock();
    const step = CancelScope.root(undefined, clock).child(100, () => 'step timeout');
    const slept = step.sleep(10_000);
    advance(100);
    await expect(slept).rejects.toBe('step timeout');
  });

  it('race settles like the promise, or rejects when the scope aborts first', async () => {
    const root = CancelScope.root();
    await expect(root.race(Promise.resolve(7))).resolves.toBe(7);
    const never = new Promise<number>(() => undefined);
    const raced = root.race(never);
    root.abort('gone');
    await expect(raced).rejects.toBe('gone');
    await expect(root.race(Promise.reject(new Error('late')))).rejects.toBe('gone');
  });

  it('creates no AbortController until the signal is read', () => {
    const scope = CancelScope.root().child(1000);
    expect((scope as unknown as { controller?: AbortController }).controller).toBeUndefined();
    scope.abort('r');
    expect(scope.signal.aborted).toBe(true);
    expect(scope.signal.reason).toBe('r');
  });
});

describe('CancelScope and an external signal', () => {
  it('leaves no listener on the caller\'s signal once the root is disposed', () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) {
      const root = CancelScope.root(controller.signal);
      root.child(1000).dispose();
      root.dispose();
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
