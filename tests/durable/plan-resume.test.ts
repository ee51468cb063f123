import { buildStepGraph } from '../../src/graph/build-step-graph';
import { planResume } from '../../src/durable/plan-resume';
import { PipelineValidationError } from '../../src/errors/pipeline-validation-error';
import type { StepRecord, StepRecordStatus } from '../../src/store/run-store';
import { StepUsage } from '../../src/usage/step-usage';

function record(stepId: string, status: StepRecordStatus, generation = 1): StepRecord {
  return { stepId, generation, status, output: '1', usage: { ...new StepUsage() }, attempts: 1, startedAt: 0, endedAt: 1 };
}

/** extract → classify → gather → book, and extract → price (a sibling branch). */
const graph = buildStepGraph(['extract', 'classify', 'gather', 'book', 'price'], {
  classify: ['extract'],
  gather: ['classify'],
  book: ['gather', 'price'],
  price: ['extract'],
});

function plan(records: StepRecord[], rerun?: string[]) {
  const result = planResume(graph, records, rerun);
  return {
    restored: graph.ids.filter((_, index) => result.restored[index] !== undefined),
    generations: Object.fromEntries(graph.ids.map((id, index) => [id, result.generationOf[index]])),
  };
}

describe('planResume', () => {
  it('restores completed steps and runs the rest at their first generation', () => {
    const result = plan([record('extract', 'completed'), record('classify', 'completed')]);
    expect(result.restored).toEqual(['extract', 'classify']);
    expect(result.generations).toEqual({ extract: 1, classify: 1, gather: 1, book: 1, price: 1 });
  });

  it('runs an incomplete or failed step again under the next generation', () => {
    const result = plan([record('extract', 'completed'), record('classify', 'completed'), record('gather', 'incomplete'), record('price', 'failed')]);
    expect(result.restored).toEqual(['extract', 'classify']);
    expect(result.generations.gather).toBe(2);
    expect(result.generations.price).toBe(2);
  });

  it('follows the latest generation of each step', () => {
    const result = plan([record('extract', 'completed'), record('extract', 'failed', 2), record('classify', 'completed')]);
    expect(result.restored).toEqual([]);
    expect(result.generations.extract).toBe(3);
    expect(result.generations.classify).toBe(2);
  });

  it('reruns a named step and its transitive dependents under new generations, keeping the rest', () => {
    const all = ['extract', 'classify', 'gather', 'book', 'price'].map((id) => record(id, 'completed'));
    const result = plan(all, ['classify']);
    expect(result.restored).toEqual(['extract', 'price']);
    expect(result.generations).toEqual({ extract: 1, classify: 2, gather: 2, book: 2, price: 1 });
  });

  it('keeps a failure of a completed run resumed without rerun (it runs nothing), and runs it again otherwise', () => {
    const records = [record('extract', 'completed'), record('classify', 'completed'), record('gather', 'completed'), record('price', 'failed')];
    const completed = planResume(graph, records, [], true);
    expect(graph.ids.filter((_, index) => completed.failed?.[index] !== undefined)).toEqual(['price']);
    expect(completed.generationOf[graph.indexOf.get('price')!]).toBe(1);
    // A failed run, or a completed one with rerun: the failure runs again, under the next generation.
    for (const other of [planResume(graph, records, [], false), planResume(graph, records, ['gather'], true)]) {
      expect(other.failed).toBeUndefined();
      expect(other.generationOf[graph.indexOf.get('price')!]).toBe(2);
    }
  });

  it('never restores a step whose dependency runs again', () => {
    // A completed record below a step that is not restored (e.g. written by a stale owner).
    const result = plan([record('extract', 'failed'), record('classify', 'completed')]);
    expect(result.restored).toEqual([]);
  });

  it('runs again a step whose record was written before its dependency\'s latest (a rerun interrupted in between)', () => {
    // Completed, then `rerun: ['classify']` recorded classify@2 and stopped before gather ran again.
    const first = ['extract', 'classify', 'gather', 'price', 'book'].map((id) => record(id, 'completed'));
    const result = plan([...first, record('classify', 'completed', 2)]);
    expect(result.restored).toEqual(['extract', 'classify', 'price']);
    expect(result.generations).toEqual({ extract: 1, classify: 2, gather: 2, book: 2, price: 1 });
    // Written after it, the same record is restored (a step made from the dependency's latest output).
    const rerunDone = plan([...first, record('classify', 'completed', 2), record('gather', 'completed', 2), record('book', 'completed', 2)]);
    expect(rerunDone.restored).toEqual(['extract', 'classify', 'gather', 'book', 'price']);
  });

  it('refuses a rerun of an unknown step, listing the steps', () => {
    expect(() => plan([], ['clasify'])).toThrow(PipelineValidationError);
    expect(() => plan([], ['clasify'])).toThrow(/rerun names unknown step 'clasify'\. Steps: \['extract', 'classify'/);
  });
});
