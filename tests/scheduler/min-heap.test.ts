import { MinHeap } from '../../src/scheduler/min-heap';

describe('MinHeap', () => {
  it('starts empty', () => {
    expect(new MinHeap().size).toBe(0);
  });

  it('pops values smallest first whatever the push order', () => {
    const heap = new MinHeap();
    for (const value of [5, 3, 9, 1, 7, 2, 8]) heap.push(value);
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop());
    expect(popped).toEqual([1, 2, 3, 5, 7, 8, 9]);
  });

  it('keeps duplicates', () => {
    const heap = new MinHeap();
    for (const value of [4, 4, 1, 4]) heap.push(value);
    expect([heap.pop(), heap.pop(), heap.pop(), heap.pop()]).toEqual([1, 4, 4, 4]);
    expect(heap.size).toBe(0);
  });

  it('interleaves pushes and pops correctly', () => {
    const heap = new MinHeap();
    heap.push(10);
    heap.push(3);
    expect(heap.pop()).toBe(3);
    heap.push(1);
    heap.push(20);
    expect(heap.pop()).toBe(1);
    expect(heap.pop()).toBe(10);
    heap.push(0);
    expect(heap.pop()).toBe(0);
    expect(heap.pop()).toBe(20);
    expect(heap.size).toBe(0);
  });

  it('sorts a large random sequence like Array.prototype.sort', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const values = Array.from({ length: 5_000 }, () => random() % 1000);
    const heap = new MinHeap();
    for (const value of values) heap.push(value);
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop());
    expect(popped).toEqual([...values].sort((a, b) => a - b));
  });
});
