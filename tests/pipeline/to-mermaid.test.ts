import { Pipeline, step } from 'fastroai';

const noop = () => step(() => undefined);

/** The edges of a flowchart as `from -> to` labels, resolving node ids to their labels. */
function edgesOf(chart: string): string[] {
  const labels = new Map<string, string>();
  for (const match of chart.matchAll(/^\s*(\w+)\["(.*)"\]$/gm)) labels.set(match[1], match[2]);
  return [...chart.matchAll(/^\s*(\w+) --> (\w+)$/gm)].map((match) => `${labels.get(match[1])} -> ${labels.get(match[2])}`).sort();
}

describe('Pipeline.toMermaid', () => {
  const pipeline = new Pipeline({
    name: 'doc',
    steps: { extract: noop(), classify: noop(), fetchMarket: noop(), fetchUser: noop(), calculate: noop() },
    dependencies: {
      classify: ['extract'],
      fetchMarket: ['classify'],
      fetchUser: ['classify'],
      calculate: ['fetchMarket', 'fetchUser'],
    },
  });

  it('draws a top-down flowchart', () => {
    expect(pipeline.toMermaid().split('\n')[0]).toBe('flowchart TD');
  });

  it('draws one node per step, labelled with its id', () => {
    const chart = pipeline.toMermaid();
    for (const id of ['extract', 'classify', 'fetchMarket', 'fetchUser', 'calculate']) {
      expect(chart).toMatch(new RegExp(`\\["${id}"\\]`));
    }
    expect(chart.match(/\["/g)).toHaveLength(5);
  });

  it('draws an edge from each dependency to its dependent', () => {
    expect(edgesOf(pipeline.toMermaid())).toEqual(
      [
        'extract -> classify',
        'classify -> fetchMarket',
        'classify -> fetchUser',
        'fetchMarket -> calculate',
        'fetchUser -> calculate',
      ].sort(),
    );
  });

  it('draws a lone step without edges', () => {
    const chart = new Pipeline({ name: 'one', steps: { only: noop() } }).toMermaid();
    expect(edgesOf(chart)).toEqual([]);
    expect(chart).toContain('["only"]');
  });

  it('keeps ids with spaces, dashes and quotes from breaking the chart', () => {
    const chart = new Pipeline({
      name: 'odd',
      steps: { 'fetch user': noop(), 'say "hi"': noop(), 'a-b': noop() },
      dependencies: { 'say "hi"': ['fetch user'], 'a-b': ['say "hi"'] },
    }).toMermaid();
    // Node ids are generated, so odd step ids only ever appear inside quoted labels.
    for (const line of chart.split('\n').slice(1)) expect(line).toMatch(/^\s+\w+(\["[^"]*"\]| --> \w+)$/);
    expect(chart).toContain('say #quot;hi#quot;');
    expect(edgesOf(chart)).toEqual(['fetch user -> say #quot;hi#quot;', 'say #quot;hi#quot; -> a-b'].sort());
  });
});
