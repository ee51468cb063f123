import { layoutDag } from '../../src/inspector/layout-dag';

describe('layoutDag', () => {
  it('puts each step in the layer of its longest path, so every edge points right', () => {
    // a → b → c, a → c: c is in layer 2 (through b), not 1.
    const layout = layoutDag([
      { level: 0, dependencies: [] },
      { level: 1, dependencies: [0] },
      { level: 2, dependencies: [0, 1] },
    ]);
    expect([...layout.column]).toEqual([0, 1, 2]);
    expect(layout.columns).toBe(3);
    expect(layout.rows).toBe(1);
  });

  it('orders a layer by the mean row of each step’s dependencies (fewer crossings)', () => {
    // Layer 0: x, y. Layer 1 in declaration order: fromY, fromX — the layout swaps them.
    const layout = layoutDag([
      { level: 0, dependencies: [] },
      { level: 0, dependencies: [] },
      { level: 1, dependencies: [1] },
      { level: 1, dependencies: [0] },
    ]);
    expect([...layout.row]).toEqual([0, 1, 1, 0]);
    expect(layout.rows).toBe(2);
  });

  it('lays out 10,000 steps in one pass', () => {
    const nodes = Array.from({ length: 10_000 }, (_, index) => ({ level: Math.floor(index / 100), dependencies: index < 100 ? [] : [index - 100] }));
    const layout = layoutDag(nodes);
    expect(layout.columns).toBe(100);
    expect(layout.rows).toBe(100);
    expect(new Set(Array.from({ length: 100 }, (_, index) => layout.row[9_900 + index])).size).toBe(100);
  });
});
