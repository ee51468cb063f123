/**
 * Synchronous attempt ends waiting for their microtask, oldest first: a ring of step indices
 * (`~index` for a failure). A step has at most one pending end, so one slot per step suffices;
 * its output (or error) waits in the run's step table. No object or closure per step.
 */
export class SyncEndRing {
  private readonly ends: Int32Array;
  private head = 0;
  private tail = 0;

  constructor(size: number) {
    this.ends = new Int32Array(size);
  }

  /** Queues an end: `index` for a completion, `~index` for a failure. */
  push(code: number): void {
    const tail = this.tail;
    this.ends[tail] = code;
    this.tail = tail + 1 === this.ends.length ? 0 : tail + 1;
  }

  /** The oldest end. */
  shift(): number {
    const head = this.head;
    const code = this.ends[head];
    this.head = head + 1 === this.ends.length ? 0 : head + 1;
    return code;
  }
}
