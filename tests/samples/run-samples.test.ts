import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
/** Samples with their own process test, left out here. */
const ownTest: Record<string, string> = {
  // Spawns a process per user turn and writes a SQLite file: tests/samples/conversation-resume.test.ts
  // runs it against a temp file and checks each turn.
  'conversation-resume.ts': 'tests/samples/conversation-resume.test.ts',
};
const samples = readdirSync(join(root, 'samples')).filter((file) => file.endsWith('.ts') && !(file in ownTest));

/** What a sample must print, beyond running to a clean exit. */
const expectedOutput: Record<string, RegExp[]> = {
  'document-pipeline.ts': [/OFFLINE DEMO MODEL/, /^Total\s+7\s+2\s+\d+/m, /exactly the sum of the step rows/],
  'multi-turn.ts': [/I still need your/, /Booked for/],
  'router.ts': [/^simple: /m, /^complex: /m],
};

/** Every sample runs to a clean exit, offline (no API key), the way a user runs it with ts-node. */
describe('samples', () => {
  // The demo records its run in a SQLite file: a temporary one, not the repository's .fastroai/runs.db.
  const runsDir = mkdtempSync(join(tmpdir(), 'fastroai-samples-'));
  afterAll(() => rmSync(runsDir, { recursive: true, force: true }));

  it('has samples to run', () => {
    expect(samples.length).toBeGreaterThan(0);
  });

  it.each(samples)('runs samples/%s offline and exits 0', async (file) => {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', FORCE_COLOR: '0', DEMO_RUNS_DB: join(runsDir, `${file}.db`) };
    delete env.OPENAI_API_KEY;
    const { stdout, stderr } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join('samples', file)],
      { cwd: root, env, timeout: 120_000 },
    );
    expect(stdout.length).toBeGreaterThan(0);
    expect(stderr).not.toMatch(/Error/);
    for (const pattern of expectedOutput[file] ?? []) expect(stdout).toMatch(pattern);
  }, 150_000);
});
