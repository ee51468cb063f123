/** The part of `process` that {@link watchInterrupts} uses (tests pass an EventEmitter). */
export interface SignalProcess {
  readonly pid: number;
  on(event: 'SIGINT' | 'SIGTERM' | 'exit', listener: (...args: any[]) => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM' | 'exit', listener: (...args: any[]) => void): unknown;
  listenerCount(event: 'SIGINT' | 'SIGTERM'): number;
  kill(pid: number, signal: 'SIGINT' | 'SIGTERM'): unknown;
}

/** What to do when the process is interrupted or exits while the view is live. */
export interface InterruptHandlers {
  /** Ctrl-C (SIGINT) or SIGTERM: restore the terminal and cancel the run. */
  interrupted(signal: 'SIGINT' | 'SIGTERM'): void;
  /** The process is exiting (`process.exit()` somewhere): restore synchronously. */
  exiting(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Watches SIGINT, SIGTERM and `exit` until the returned function is called. On a signal it
 * calls `interrupted`, removes its listeners, and then, if no other listener of that signal is
 * left, raises the signal again (`graceMs` later): with no listener Node applies the default action, so the
 * process ends as it would have without the view (killed by SIGINT, exit status 130 in a
 * shell). If the application listens to the signal itself, its own handler already ran for
 * this one: the signal is not raised twice, and the application decides.
 *
 * @returns stops watching (idempotent)
 */
export function watchInterrupts(proc: SignalProcess, handlers: InterruptHandlers, graceMs = 0): () => void {
  let active = true;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (!active) return;
    stop();
    handlers.interrupted(signal);
    if (proc.listenerCount(signal) !== 0) return;
    // After a grace, so that the cancelled run can tear down (a distributed run's remote steps
    // told to stop, a store's run marked aborted); a second Ctrl-C meanwhile (no listener left
    // now) ends the process at once.
    if (graceMs > 0) setTimeout(() => proc.kill(proc.pid, signal), graceMs);
    else proc.kill(proc.pid, signal);
  };
  const listeners = SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  const onExit = () => handlers.exiting();
  const stop = () => {
    if (!active) return;
    active = false;
    for (const [signal, listener] of listeners) proc.off(signal, listener);
    proc.off('exit', onExit);
  };
  for (const [signal, listener] of listeners) proc.on(signal, listener);
  proc.on('exit', onExit);
  return stop;
}
