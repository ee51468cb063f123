import { Pipeline, step } from 'fastroai';
import { LazyProperty, setLazySource } from '../../src/pipeline/lazy-property';

describe('LazyProperty', () => {
  const twice = new LazyProperty('doubled', (source: { value: number; reads: number[] }) => {
    source.reads.push(source.value);
    return source.value * 2;
  });

  function objectWith(value: number) {
    const source = { value, reads: [] as number[] };
    const target: Record<string, unknown> = { name: `n${value}` };
    twice.defineOn(target);
    setLazySource(target, source);
    return { target, source };
  }

  it('computes the value from its own object\'s source on first read, once', () => {
    const a = objectWith(1);
    const b = objectWith(5);
    expect(a.source.reads).toEqual([]);
    expect(b.target.doubled).toBe(10);
    expect(a.target.doubled).toBe(2);
    expect(a.target.doubled).toBe(2);
    expect(a.source.reads).toEqual([1]);
    expect(b.source.reads).toEqual([5]);
  });

  it('looks like a plain enumerable property to keys, spreading and JSON; the source stays hidden', () => {
    const { target } = objectWith(3);
    expect(Object.keys(target)).toEqual(['name', 'doubled']);
    expect({ ...target }).toEqual({ name: 'n3', doubled: 6 });
    expect(JSON.parse(JSON.stringify(objectWith(4).target))).toEqual({ name: 'n4', doubled: 8 });
    expect(Object.getOwnPropertySymbols(target).filter((key) => Object.getOwnPropertyDescriptor(target, key)!.enumerable)).toEqual([]);
  });

  it('is replaced by an assignment, before or after the first read', () => {
    const early = objectWith(1).target;
    early.doubled = 'mine';
    expect(early.doubled).toBe('mine');
    const late = objectWith(1).target;
    expect(late.doubled).toBe(2);
    late.doubled = 7;
    expect(late.doubled).toBe(7);
  });

  // A getter closure per object gave every run's result a hidden class of its own, which kept
  // the run's step table alive across scavenges until a full GC (the 10,000-step chain's cost).
  it('gives every object the same accessor functions (no closure per object)', () => {
    const first = Object.getOwnPropertyDescriptor(objectWith(1).target, 'doubled')!;
    const second = Object.getOwnPropertyDescriptor(objectWith(2).target, 'doubled')!;
    expect(typeof first.get).toBe('function');
    expect(second.get).toBe(first.get);
    expect(second.set).toBe(first.set);
  });
});

describe('a run\'s result', () => {
  it('shares the accessors of its lazy stepOutputs and timings with every other result', async () => {
    const pipeline = new Pipeline({ name: 'two', steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    const [first, second] = [await pipeline.execute({}), await pipeline.execute({})];
    for (const key of ['stepOutputs', 'timings']) {
      const accessor = Object.getOwnPropertyDescriptor(first, key)!.get;
      expect(typeof accessor).toBe('function');
      expect(Object.getOwnPropertyDescriptor(second, key)!.get).toBe(accessor);
    }
    expect(second.stepOutputs).toEqual({ a: 1, b: 2 });
    expect(Object.keys(first.timings)).toEqual(['a', 'b']);
  });
});
