import { buildStepGraph } from '../../src/graph/build-step-graph';
import { dependentsClosure } from '../../src/graph/dependents-closure';

describe('dependentsClosure', () => {
  const graph = buildStepGraph(['a', 'b', 'c', 'd', 'e'], { b: ['a'], c: ['b'], d: ['a', 'e'] });
  const ids = (closure: Uint8Array) => graph.ids.filter((_, index) => closure[index] === 1);

  it('marks the seeds and every step that depends on them, directly or not', () => {
    expect(ids(dependentsClosure(graph, [graph.indexOf.get('a')!]))).toEqual(['a', 'b', 'c', 'd']);
    expect(ids(dependentsClosure(graph, [graph.indexOf.get('e')!, graph.indexOf.get('b')!]))).toEqual(['b', 'c', 'd', 'e']);
  });

  it('marks nothing without seeds', () => {
    expect(ids(dependentsClosure(graph, []))).toEqual([]);
  });
});
