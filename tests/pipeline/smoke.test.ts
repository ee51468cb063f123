import { Pipeline, step } from 'fastroai';

describe('Pipeline smoke', () => {
  it('runs a two-step pipeline', async () => {
    const pipeline = new Pipeline({
      name: 'smoke',
      steps: { a: step(() => 1), b: step((ctx) => ctx.getDependency<number>('a') + 1) },
      dependencies: { b: ['a'] },
    });
    const result = await pipeline.execute({});
    expect(result.output).toBe(2);
    expect(result.stepOutputs).toEqual({ a: 1, b: 2 });
  });
});
