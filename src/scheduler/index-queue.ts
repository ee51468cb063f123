/** The steps admitted to start, appended by the scheduler: a fixed buffer (a run starts each step at most once per admission). */
export class IndexQueue {
  readonly items: Int32Array;
  count = 0;

  constructor(capacity: number) {
    this.items = new Int32Array(capacity);
  }

  push(index: number): void {
    this.items[this.count++] = index;
  }
}
