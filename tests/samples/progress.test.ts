import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../samples/progress';
import { captureOutput, stripAnsi } from '../support/capture-output';

describe('samples/progress.ts', () => {
  it('uses the library renderer (fastroai/progress), not a copy built on cli-progress', () => {
    const source = readFileSync(join(__dirname, '..', '..', 'samples', 'progress.ts'), 'utf8');
    expect(source).toContain("import { renderProgress } from 'fastroai/progress';");
    expect(source).not.toMatch(/cli-progress/);
  });

  it('prints plain lines off a terminal: the retry, every step, each level, the summary and the output', async () => {
    const output = captureOutput();
    const result = await main(output);
    expect(result.output).toBe(972);
    const lines = output.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\[0\.\d{3} s\] document_processor: 5 steps in 4 levels$/);
    expect(lines).toContainEqual(expect.stringMatching(/\] fetchMarket attempt 1 failed \(market feed timed out\), retrying in 0\.2 s$/));
    for (const id of ['extract', 'classify', 'fetchMarket', 'fetchUser', 'calculate']) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`\\] ${id} done in `)));
    }
    expect(lines).toContainEqual(expect.stringMatching(/\] classify done in \d+ ms, \$0\.000081 /));
    expect(lines.filter((line) => / level \d done /.test(line))).toHaveLength(4);
    expect(lines.at(-2)).toMatch(/ document_processor finished in .*, 5\/5 steps, cost \$0\.000081$/);
    expect(lines.at(-1)).toBe('output: 972 USD');
  });

  it('draws the live view on a terminal and leaves the cursor shown', async () => {
    const output = captureOutput({ isTTY: true, columns: 80 });
    await main(output);
    const text = stripAnsi(output.text());
    expect(text).toMatch(/document_processor █{10,24} 5\/5 steps/);
    expect(text).toMatch(/✓ fetchMarket\s+L2\s+done in/);
    expect(output.text()).toMatch(/\n\x1b\[\?25houtput: 972 USD\n$/);
  });
});
