import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The suite relies on jest failing a test when a promise rejection goes unhandled (the engine
 * must never leave one: a timed-out step's late failure, a cancelled run's steps, …). A
 * `process.on('unhandledRejection')` in a setup file only sees jest's sandboxed `process` and
 * never fired; jest 30 does the check itself. This proves it, on a planted rejection.
 */
it('fails a test that leaves a promise rejection unhandled', () => {
  const root = join(__dirname, '..', '..');
  const jestBin = require.resolve('jest/bin/jest');
  const result = spawnSync(
    process.execPath,
    [jestBin, '--config', join(root, 'jest.config.ts'), '--rootDir', root, '--roots', join(__dirname, 'fixtures'),
      '--testMatch', '**/planted-rejection.fixture.ts', '--ci'],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  const output = `${result.stdout}${result.stderr}`;
  expect(output).toContain('planted unhandled rejection');
  expect(output).toMatch(/Tests:\s+1 failed/);
  expect(result.status).not.toBe(0);
});
