import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRunStore } from 'fastroai/sqlite';
import { makeRunRecord } from '../store/run-store-contract';

const root = join(__dirname, '..', '..');
let dir: string;
let dbPath: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fastroai-bin-'));
  dbPath = join(dir, 'runs.db');
  const writer = new SqliteRunStore({ path: dbPath });
  await writer.createRun(makeRunRecord('run-one', { pipeline: 'invoices' }));
  await writer.close();
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts src/cli/fastroai.ts as its own process, the way `npx fastroai` runs the built one. */
function startFastroai(args: string[]): { child: ChildProcessWithoutNullStreams; stdout: () => string; url: Promise<string> } {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join('src', 'cli', 'fastroai.ts'), ...args], { cwd: root });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /https?:\/\/\S+/.exec(stdout)?.[0];
      if (found !== undefined) resolve(found);
    });
    child.once('exit', (code) => reject(new Error(`fastroai exited (${code}) before printing a URL:\n${stdout}${stderr}`)));
  });
  return { child, stdout: () => stdout, url };
}

describe('the fastroai executable', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('on %s closes the inspector and the store, and exits 0 by itself', async (signal) => {
    const { child, url } = startFastroai(['inspect', '--store', `sqlite:${dbPath}`, '--port', '0']);
    const page = await fetch(await url);
    expect(await page.text()).toContain('invoices');
    expect(existsSync(`${dbPath}-wal`)).toBe(true);
    const exited = once(child, 'exit');
    child.kill(signal);
    const [code, killedBy] = (await exited) as [number | null, string | null];
    expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
    // SQLite deletes its write-ahead log when the last connection closes: the store was closed, not dropped.
    expect(existsSync(`${dbPath}-wal`)).toBe(false);
  }, 60_000);

  it('exits 2 on a command line it cannot run, printing why on stderr', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join('src', 'cli', 'fastroai.ts'), 'inspect', '--port', 'x'], { cwd: root });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(2);
    expect(stderr).toContain("fastroai: Expected --port to be a port number from 0 to 65535, got 'x'");
  }, 60_000);
});
