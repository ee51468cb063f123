/**
 * The backoff waits of one run's retries: each resolves `true` when its time is up, or `false`
 * at once when the run ends first (`cancelAll`), so no retry starts after a failure or a
 * cancellation and no timer outlives the run.
 */
export class RetryWaits {
  private readonly pending = new Set<{ timer: NodeJS.Timeout; resolve: (goOn: boolean) => void }>();
  private cancelled = false;

  /** Waits `ms`; resolves whether to go on with the retry. */
  wait(ms: number): Promise<boolean> {
    if (this.cancelled) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.pending.delete(wait);
          resolve(true);
        }, ms),
        resolve,
      };
      this.pending.add(wait);
    });
  }

  /** Ends every wait with `false`, and every later one at once. */
  cancelAll(): void {
    this.cancelled = true;
    for (const wait of this.pending) {
      clearTimeout(wait.timer);
      wait.resolve(false);
    }
    this.pending.clear();
  }
}
