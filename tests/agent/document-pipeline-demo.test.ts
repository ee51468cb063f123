import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { main } from '../../samples/document-pipeline';

describe('the document-pipeline demo (npm run demo)', () => {
  it('runs offline, says so, and prints a cost table whose rows add up to the total', async () => {
    const lines: string[] = [];
    const result = await main({ env: {}, write: (line) => lines.push(line) });
    const text = lines.join('\n');

    expect(text).toMatch(/OFFLINE DEMO MODEL 'fastroai-offline-demo'/);
    expect(text).toMatch(/AS IF IT WERE gpt-4o-mini/);
    expect(text).toContain('2: fetch_market ∥ fetch_user');
    for (const id of ['extract', 'classify', 'fetch_market', 'fetch_user', 'calculate']) {
      expect(text).toMatch(new RegExp(`✓ ${id} in `));
    }
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

  it('runs as a program with ts-node when OPENAI_API_KEY is unset', () => {
    const env = { ...process.env };
    delete env.OPENAI_API_KEY;
    const run = spawnSync('npx', ['ts-node', 'samples/document-pipeline.ts'], {
      cwd: resolve(__dirname, '../..'),
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/OFFLINE DEMO MODEL/);
    expect(run.stdout).toMatch(/^Total\s+7\s+2\s+\d+/m);
    expect(run.stdout).toMatch(/exactly the sum of the step rows/);
  }, 150_000);
});
