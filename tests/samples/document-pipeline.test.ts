import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../samples/document-pipeline';

describe('the document-pipeline demo (npm run demo)', () => {
  const outputDir = mkdtempSync(join(tmpdir(), 'fastroai-demo-'));
  afterAll(() => rmSync(outputDir, { recursive: true, force: true }));

  it('runs offline, says so, shows progress, and prints a cost table whose rows add up to the total', async () => {
    const lines: string[] = [];
    const result = await main({ env: {}, write: (line) => lines.push(line), outputDir });
    const text = lines.join('\n');

    expect(text).toMatch(/OFFLINE DEMO MODEL 'fastroai-offline-demo'/);
    expect(text).toMatch(/AS IF IT WERE gpt-4o-mini/);
    expect(text).toContain('2: fetch_market ∥ fetch_user');
    for (const id of ['extract', 'classify', 'fetch_market', 'fetch_user', 'calculate']) {
      expect(text).toMatch(new RegExp(`\\] ${id} done in `));
    }
    for (const level of [0, 1, 2, 3]) expect(text).toMatch(new RegExp(`\\] level ${level} done`));
    expect(result.output).toMatchObject({ currency: 'EUR', subtotal: 1252, discount: 150.24, total: 1101.76, totalUsd: 1189.9 });

    const usage = result.usage!;
    const steps = Object.values(usage.steps);
    expect(steps).toHaveLength(5);
    expect(steps.every((step) => step.costMicrocents > 0)).toBe(true);
    expect(steps.reduce((sum, step) => sum + step.costMicrocents, 0)).toBe(usage.totalCostMicrocents);
    expect(usage.totalToolCallCount).toBe(2);
    const totalRow = lines.find((line) => line.startsWith('Total'));
    expect(totalRow).toContain(String(usage.totalCostMicrocents));
    expect(totalRow).toContain(String(usage.totalInputTokens));
  });

  it('writes a Gantt chart of the run with the critical path marked, and says where', async () => {
    const lines: string[] = [];
    await main({ env: {}, write: (line) => lines.push(line), outputDir });
    const file = join(outputDir, 'document-pipeline-gantt.md');
    expect(lines.join('\n')).toContain('document-pipeline-gantt.md');
    const gantt = readFileSync(file, 'utf8');
    expect(gantt).toContain('```mermaid\ngantt');
    expect(gantt).toMatch(/extract .*:crit,/);
    expect(gantt).toMatch(/calculate .*:crit,/);
  });
});
