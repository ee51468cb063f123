import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useOpenAIServer } from '../support/use-openai-server';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const useServer = useOpenAIServer();

describe('samples/quick-start.ts (the README quick start)', () => {
  it('makes one run that gives both the progress and the result: one model call with a real key', async () => {
    const server = useServer();
    server.fallback = () => ({ kind: 'json', content: '{"documentType":"invoice"}', usage: { promptTokens: 80, completionTokens: 9 } });
    const { stdout } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join('samples', 'quick-start.ts')],
      { cwd: root, env: { ...process.env, OPENAI_API_KEY: 'sk-test-key', OPENAI_BASE_URL: server.baseURL }, timeout: 120_000 },
    );
    // The classify step is the only model call of a run.
    expect(server.requests.map((request) => request.path)).toEqual(['/v1/chat/completions']);
    for (const id of ['extract', 'classify', 'fetchMarket', 'fetchUser', 'calculate']) {
      expect(stdout.match(new RegExp(`^${id} done in `, 'gm'))).toHaveLength(1);
    }
    expect(stdout).toContain("{ kind: 'invoice', usd: 972 }");
    expect(stdout).toMatch(/^80 input tokens, \d+ microcents$/m);
  }, 150_000);
});
