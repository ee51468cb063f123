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

/** Mermaid's entity codes turned back into characters, as Mermaid does when it draws. */
function decodeEntities(text: string): string {
  return text.replace(/#(quot|\d+);/g, (_, code: string) => (code === 'quot' ? '"' : String.fromCharCode(Number(code))));
}

describe('Pipeline.toMermaid: step ids with characters Mermaid reads as syntax', () => {
  const odd = ['two\nlines', 'say "hi"', 'arr[0]', '<b>bold</b>', 'a & b', '50% #1', 'back`tick', 'cr\r\ttab', 'x\u2028y'];

  it('keeps every node on one line of its own, and each label shows the id as it is', () => {
    const steps: Record<string, ReturnType<typeof noop>> = {};
    const dependencies: Record<string, string[]> = {};
    odd.forEach((id, index) => {
      steps[id] = noop();
      if (index > 0) dependencies[id] = [odd[index - 1]];
    });
    const chart = new Pipeline({ name: 'odd', steps, dependencies }).toMermaid();
    const lines = chart.split('\n');
    expect(lines).toHaveLength(1 + odd.length + (odd.length - 1));
    for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}s\d+(\["[^"<>[\]`\\]*"\]| --> s\d+)$/);
    const labels = [...chart.matchAll(/^ {2}s\d+\["(.*)"\]$/gm)].map((match) => decodeEntities(match[1]));
    expect(labels).toEqual(odd);
    expect(edgesOf(chart).map(decodeEntities)).toHaveLength(odd.length - 1);
  });

  it('writes a newline as #10; and a quote as #quot;', () => {
    const chart = new Pipeline({ name: 'p', steps: { 'a\n"b"': noop() } }).toMermaid();
    expect(chart).toBe('flowchart TD\n  s0["a#10;#quot;b#quot;"]');
  });
});
