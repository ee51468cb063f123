import { DocumentRouter } from '../../samples/router';

describe('samples/router', () => {
  it('sends a short document to the simple pipeline', async () => {
    const result = await new DocumentRouter(5).execute({ document: 'one two three' });
    expect(result.output).toEqual({ words: 3, summary: 'one two three', route: 'simple' });
  });

  it('sends a long document to the complex pipeline, which runs its parallel pair', async () => {
    const document = 'A b c d. E f g h. I j k l.';
    const result = await new DocumentRouter(5).execute({ document });
    expect(result.output).toEqual({ words: 12, summary: 'A b c d. E f g h.', route: 'complex' });
    expect(Object.keys(result.stepOutputs).sort()).toEqual(['combine', 'countWords', 'firstSentences', 'split']);
  });
});
