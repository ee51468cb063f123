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

it("tells whether a step's record readies a dependent, from the steps known done", () => {
  const pipeline = diamond();
  const doneAmong = (...ids: string[]) => (id: string) => ids.includes(id);
  expect(pipeline.readiesADependent('a', doneAmong())).toBe(true); // b and c wait for a alone
  expect(pipeline.readiesADependent('b', doneAmong())).toBe(false); // d waits for c too
  expect(pipeline.readiesADependent('b', doneAmong('c'))).toBe(true);
  expect(pipeline.readiesADependent('f', doneAmong('a', 'b', 'c', 'd'))).toBe(false); // no dependents
  expect(pipeline.readiesADependent('e', doneAmong())).toBe(false);
  expect(pipeline.readiesADependent('missing', doneAmong())).toBe(false);
});

it('takes a record of a step with many dependents as readying one, without looking at them all', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `leaf${i}`);
  const steps = Object.fromEntries([...ids, 'root', 'other'].map((id) => [id, step(() => id)]));
  const wide = new WorkerPipeline(new Pipeline({ name: 'wide', steps, dependencies: Object.fromEntries(ids.map((id) => [id, ['root', 'other']])), outputStep: 'leaf0' }));
  expect(wide.readiesADependent('root', () => false)).toBe(true);
});
