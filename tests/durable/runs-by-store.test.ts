import { MemoryRunStore } from 'fastroai';
import { RunsByStore } from '../../src/durable/runs-by-store';

describe('RunsByStore', () => {
  it('keeps a value per store object and run id', () => {
    const runs = new RunsByStore<string>();
    const [a, b] = [new MemoryRunStore(), new MemoryRunStore()];
    runs.set(a, 'r', 'in a');
    expect([runs.get(a, 'r'), runs.get(b, 'r'), runs.get(a, 'other')]).toEqual(['in a', undefined, undefined]);
  });

  it('lets a value go, or only the given one', () => {
    const runs = new RunsByStore<string>();
    const store = new MemoryRunStore();
    runs.set(store, 'r', 'second');
    runs.delete(store, 'r', 'first'); // an older holder's release: not this value
    expect(runs.get(store, 'r')).toBe('second');
    runs.delete(store, 'r');
    expect(runs.get(store, 'r')).toBeUndefined();
  });

  it('past its bound lets the oldest go; a value set again is the newest', () => {
    const runs = new RunsByStore<number>();
    const store = new MemoryRunStore();
    runs.set(store, 'a', 1, 2);
    runs.set(store, 'b', 2, 2);
    runs.set(store, 'a', 3, 2);
    runs.set(store, 'c', 4, 2);
    expect([runs.get(store, 'a'), runs.get(store, 'b'), runs.get(store, 'c')]).toEqual([3, undefined, 4]);
  });
});
