/**
 * A worker's view of a pipeline (WorkerPipeline): each step's transitive dependencies, the
 * outputs its job reads from the store. The walks share one buffer of marks, so each must leave
 * it clean for the next.
 */
import { Pipeline, step } from 'fastroai';
import { WorkerPipeline } from '../../src/distributed/worker-pipeline';

/** a → b, a → c, (b, c) → d; e alone; d → f. */
function diamond(): WorkerPipeline {
  const steps = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => [id, step(() => id)]));
  return new WorkerPipeline(new Pipeline({ name: 'diamond', steps, dependencies: { b: ['a'], c: ['a'], d: ['b', 'c'], f: ['d'] }, outputStep: 'f' }));
}

const ancestorsOf = (pipeline: WorkerPipeline, id: string) => [...pipeline.ancestorIdsOf(pipeline.definition.graph.indexOf.get(id)!)].sort();

it("lists each step's transitive dependencies once, walk after walk", () => {
  const pipeline = diamond();
  // In this order, each walk crosses steps an earlier one marked: marks left behind would hide them.
  expect(ancestorsOf(pipeline, 'd')).toEqual(['a', 'b', 'c']);
  expect(ancestorsOf(pipeline, 'b')).toEqual(['a']);
  expect(ancestorsOf(pipeline, 'f')).toEqual(['a', 'b', 'c', 'd']);
  expect(ancestorsOf(pipeline, 'c')).toEqual(['a']);
  expect(ancestorsOf(pipeline, 'a')).toEqual([]);
  expect(ancestorsOf(pipeline, 'e')).toEqual([]);
});

it('answers a step again from what it found the first time', () => {
  const pipeline = diamond();
  const index = pipeline.definition.graph.indexOf.get('f')!;
  expect(pipeline.ancestorIdsOf(index)).toBe(pipeline.ancestorIdsOf(index));
});
