/**
 * A run's clock for its step table: ms since the run began (`performance.now`). A step that
 * starts right after the end that admitted it reuses that end's reading: no step code ran in
 * between, so one reading per step serves both.
 */
export class RunClock {
  private startedAtMs = 0;
  /** The last reading (ms since the run began), reusable while no step code ran since. */
  private lastMs = 0;
  private fresh = true;

  /** The run begins now: readings count from here. */
  begin(): void {
    this.startedAtMs = performance.now();
  }

  /** A step ended: now, in ms since the run began (the next start may reuse it). */
  stepEnded(): number {
    const ms = performance.now() - this.startedAtMs;
    this.lastMs = ms;
    this.fresh = true;
    return ms;
  }

  /** A step starts: now, in ms since the run began (the last end's reading if nothing ran since). */
  stepStarts(): number {
    if (!this.fresh) return performance.now() - this.startedAtMs;
    this.fresh = false;
    return this.lastMs;
  }
}
