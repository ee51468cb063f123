import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRunStore } from 'fastroai/sqlite';

const root = join(__dirname, '..', '..');
const fixture = join('tests', 'progress', 'fixtures', 'interrupted-run.ts');
const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';

interface Outcome {
  /** Everything the terminal received. */
  output: string;
  /** What the terminal had received when Ctrl-C was pressed. */
  beforeInterrupt: string;
  /** `script -e` exits with the child's status: 128 + signal number when a signal killed it. */
  exitCode: number | null;
}

/**
 * Starts the fixture on a pseudo-terminal (util-linux `script`: the child's stdout is a TTY), presses Ctrl-C (writes ^C to the terminal) once it is drawing. */
function runAndInterrupt(storePath: string): Promise<Outcome> {
  const command = `${process.execPath} -r ts-node/register/transpile-only -r tsconfig-paths/register ${fixture}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: root, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', FASTROAI_TEST_STORE: storePath } });
  let output = '';
  let beforeInterrupt = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (beforeInterrupt === '' && output.includes('READY') && output.includes('waiting_pipeline')) {
      beforeInterrupt = output;
      // ^C on the terminal: its line discipline sends SIGINT to the foreground process group.
      child.stdin.write('\x03');
    }
  });
  const hang = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => {
    child.on('close', (exitCode) => {
      clearTimeout(hang);
      child.stdin.destroy();
      resolve({ output, beforeInterrupt, exitCode });
    });
  });
}

describe('renderProgress on a real terminal, interrupted with Ctrl-C', () => {
  it('shows the cursor again after SIGINT, lets the cancelled run end (recorded aborted), then lets SIGINT end the process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastroai-sigint-'));
    try {
      const storePath = join(dir, 'runs.db');
      const { output, beforeInterrupt, exitCode } = await runAndInterrupt(storePath);
      expect(beforeInterrupt).toContain(HIDE_CURSOR);
      expect(beforeInterrupt).not.toContain(SHOW_CURSOR);
      const afterInterrupt = output.slice(beforeInterrupt.length);
      expect(afterInterrupt).toContain(SHOW_CURSOR);
      expect(afterInterrupt).toContain('waiting_pipeline interrupted (SIGINT)');
      // The application saw the rejection during the grace; then SIGINT (2) ended the process: not swallowed.
      expect(output).toContain('REJECTED PipelineAbortedError');
      expect(exitCode).toBe(130);
      // The run was torn down before the process ended: recorded aborted, not left running.
      const store = new SqliteRunStore({ path: storePath });
      try {
        expect((await store.getRun('interrupted-1'))?.run.status).toBe('aborted');
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
