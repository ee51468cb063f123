import type { Clock } from '../clock/clock';

/**
 * A run's clock for its step table: ms since the run began (the run's clock's monotonic reading). A step that
 * starts right after the end that admitted it reuses that end's reading: no step code ran in
 * between, so one reading per step serves both.
 */
export class RunClock {
  private startedAtMs = 0;
  /** The last reading (ms since the run began), reusable while no step code ran since. */
  private lastMs = 0;
  private fresh = true;

  constructor(private readonly clock: Clock) {}

  /** The run begins now: readings count from here. */
  begin(): void {
    this.startedAtMs = this.clock.monotonicMs();
  }

  /** A step ended: now, in ms since the run began (the next start may reuse it). */
  stepEnded(): number {
    const ms = this.clock.monotonicMs() - this.startedAtMs;
    this.lastMs = ms;
    this.fresh = true;
    return ms;
  }

  /**
   * Time passed since the last reading without a step ending (a step's record was awaited):
   * the next start reads the clock.
   */
  stale(): void {
    this.fresh = false;
  }

  /** A step starts: now, in ms since the run began (the last end's reading if nothing ran since). */
  stepStarts(): number {
    if (!this.fresh) return this.clock.monotonicMs() - this.startedAtMs;
    this.fresh = false;
    return this.lastMs;
  }
}
