import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StepExecutionError } from 'fastroai';
import { SqliteRunStore } from 'fastroai/sqlite';
import { DEMO_STEPS, main } from '../../samples/document-pipeline';

const root = join(__dirname, '..', '..');
const execFileAsync = promisify(execFile);

describe('the document-pipeline demo (npm run demo)', () => {
  const outputDir = mkdtempSync(join(tmpdir(), 'fastroai-demo-'));
  // Not the repository's .fastroai/runs.db: the tests record their runs in a temporary file.
  const runsDb = join(outputDir, 'runs', 'runs.db');
  const demo = (options: Parameters<typeof main>[0]) => main({ outputDir, runsDb, ...options });
  afterAll(() => rmSync(outputDir, { recursive: true, force: true }));

  it('runs offline, says so, shows progress, and prints a cost table whose rows add up to the total', async () => {
    const lines: string[] = [];
    const result = await demo({ env: {}, write: (line) => lines.push(line) });
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
    await demo({ env: {}, write: (line) => lines.push(line) });
    const file = join(outputDir, 'document-pipeline-gantt.md');
    expect(lines.join('\n')).toContain('document-pipeline-gantt.md');
    const gantt = readFileSync(file, 'utf8');
    expect(gantt).toContain('```mermaid\ngantt');
    expect(gantt).toMatch(/extract .*:crit,/);
    expect(gantt).toMatch(/calculate .*:crit,/);
  });

  it('records the run in a SQLite run store (creating its folder) and ends with the command that inspects it', async () => {
    const lines: string[] = [];
    const result = await demo({ env: {}, write: (line) => lines.push(line) });
    const store = new SqliteRunStore({ path: runsDb });
    try {
      const recorded = await store.getRun(result.runId);
      expect(recorded?.run).toMatchObject({ pipeline: 'document_processor', status: 'completed' });
      expect(recorded?.steps.map((step) => step.stepId).sort()).toEqual([...DEMO_STEPS].sort());
      expect(recorded?.steps.every((step) => step.status === 'completed')).toBe(true);
    } finally {
      await store.close();
    }
    expect(lines.slice(-3).join('\n')).toContain(`npx fastroai inspect --store sqlite:${runsDb}`);
  });

  it('records a failed run too, with the step that failed', async () => {
    const error = await demo({ env: {}, failStep: 'fetch_user', write: () => undefined }).catch((thrown: unknown) => thrown);
    expect(StepExecutionError.isInstance(error)).toBe(true);
    const store = new SqliteRunStore({ path: runsDb });
    try {
      const { runs } = await store.listRuns({ status: 'failed' });
      expect(runs[0]).toMatchObject({ pipeline: 'document_processor', error: expect.objectContaining({ message: expect.stringContaining('Service Unavailable') }) });
      const recorded = await store.getRun(runs[0].runId);
      expect(recorded?.steps.find((step) => step.stepId === 'fetch_user')).toMatchObject({ status: 'failed' });
    } finally {
      await store.close();
    }
  }, 30_000);

  it('fits every line it prints in 80 columns (the cost table included)', async () => {
    const lines: string[] = [];
    await demo({ env: {}, write: (line) => lines.push(line) });
    expect(lines.find((line) => line.startsWith('Step '))).toBeDefined();
    const tooWide = lines.filter((line) => Array.from(line).length > 80);
    expect(tooWide).toEqual([]);
  });

  it('ends a failed run with a short report: the step, its error, the cost so far', async () => {
    const lines: string[] = [];
    const error = await demo({ env: {}, failStep: 'fetch_market', write: (line) => lines.push(line) }).catch((thrown: unknown) => thrown);
    expect(StepExecutionError.isInstance(error)).toBe(true);
    const report = lines.slice(lines.indexOf('The run failed.'));
    expect(report[0]).toBe('The run failed.');
    expect(report[1]).toBe('  Step:  fetch_market');
    expect(report[2]).toBe('  Error: Service Unavailable (simulated by DEMO_FAIL_STEP) (AI_APICallError)');
    const cost = /^ {2}Cost so far: (\d+) microcents = \$\d\.\d{6}$/.exec(report[3]);
    // extract (101) and classify (64) completed before fetch_market started.
    expect(Number(cost?.[1])).toBeGreaterThanOrEqual(165);
    expect(report[4]).toMatch(/^ {2}\([2-4] of 5 steps completed\)$/);
    expect(report).toHaveLength(5);
    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(80);
  }, 30_000);

  it('as a command, reports a failed run in a few lines, no stack trace, and exits 1', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DEMO_FAIL_STEP: 'fetch_market', CI: 'true', DEMO_RUNS_DB: runsDb };
    delete env.OPENAI_API_KEY;
    const outcome = await execFileAsync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join('samples', 'document-pipeline.ts')],
      { cwd: root, env, timeout: 120_000 },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(outcome.code).toBe(1);
    const lines = `${outcome.stdout}${outcome.stderr}`.trimEnd().split('\n');
    expect(lines.length).toBeLessThan(40);
    expect(outcome.stdout).toContain('  Step:  fetch_market');
    expect(outcome.stdout).toMatch(/Cost so far: \d+ microcents/);
    expect(`${outcome.stdout}${outcome.stderr}`).not.toMatch(/^\s+at /m);
    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(80);
  }, 150_000);

  it('as a command, records its run in .fastroai/runs.db of the working directory and prints npx fastroai inspect', async () => {
    const cwd = join(outputDir, 'cwd');
    mkdirSync(cwd);
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', TS_NODE_PROJECT: join(root, 'tsconfig.json') };
    delete env.OPENAI_API_KEY;
    delete env.DEMO_RUNS_DB;
    const { stdout } = await execFileAsync(
      process.execPath,
      // From another directory: the preloads and the tsconfig are the repository's.
      ['-r', require.resolve('ts-node/register/transpile-only'), '-r', require.resolve('tsconfig-paths/register'), join(root, 'samples', 'document-pipeline.ts')],
      { cwd, env, timeout: 120_000 },
    );
    expect(stdout.trimEnd().split('\n').slice(-3)).toEqual([
      'This run is recorded in .fastroai/runs.db. To look at it in the run inspector:',
      '  npx fastroai inspect',
      '(in a clone of fastroai that is not built: npm run inspect)',
    ]);
    const store = new SqliteRunStore({ path: join(cwd, '.fastroai', 'runs.db') });
    try {
      const { runs } = await store.listRuns();
      expect(runs.map((run) => [run.pipeline, run.status])).toEqual([['document_processor', 'completed']]);
    } finally {
      await store.close();
    }
  }, 150_000);

  it('refuses a DEMO_FAIL_STEP that names no step, listing the steps', async () => {
    await expect(demo({ env: { DEMO_FAIL_STEP: 'fetch' }, write: () => undefined })).rejects.toThrow(
      "DEMO_FAIL_STEP must name a step of the demo (extract, classify, fetch_market, fetch_user, calculate), got 'fetch'",
    );
  });
});

describe('npm run demo', () => {
  const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const tsconfig = readFileSync(join(root, 'tsconfig.json'), 'utf8');

  it('starts without a type-check pass (transpile-only), resolving fastroai sub-paths through tsconfig paths', () => {
    expect(packageJson.scripts.demo).toBe('node -r ts-node/register/transpile-only -r tsconfig-paths/register samples/document-pipeline.ts');
  });

  it('leaves the type check of the samples to npm test', () => {
    expect(packageJson.scripts.test).toMatch(/^npm run typecheck && /);
    expect(packageJson.scripts.typecheck).toBe('tsc --noEmit -p tsconfig.json');
    expect(tsconfig).toMatch(/"include": \[[^\]]*"samples"/);
  });
});
