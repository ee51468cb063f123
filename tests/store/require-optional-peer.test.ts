import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FastroAIError } from 'fastroai';
import { requireOptionalPeer } from '../../src/store/require-optional-peer';

const ROOT = join(__dirname, '..', '..');

/** The optional peers loaded so far in the probe process, as JavaScript source. */
const LOADED_PEERS = `[...new Set(Object.keys(require.cache)
  .map((file) => /node_modules[\\\\/](ioredis|pg|pg-pool|better-sqlite3)[\\\\/]/.exec(file)?.[1])
  .filter(Boolean))].sort()`;

/** Runs `script` in a fresh Node process (TypeScript sources through ts-node); `script` writes JSON to stdout. */
function probe(script: string): unknown {
  const output = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
  });
  return JSON.parse(output);
}

describe('requireOptionalPeer', () => {
  it('names a missing package and the command that installs it', () => {
    let error: unknown;
    try {
      requireOptionalPeer('fastroai-no-such-package', '5', 'RedisRunStore');
    } catch (caught) {
      error = caught;
    }
    expect(FastroAIError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'RedisRunStore needs the optional package fastroai-no-such-package, which is not installed. Install it with: npm install fastroai-no-such-package@5',
    );
  });

  it('loads an installed package', () => {
    expect(typeof requireOptionalPeer<{ Pool: unknown }>('pg', '8', 'PostgresRunStore').Pool).toBe('function');
  });

  it('keeps ioredis and pg out of the root import, and out of fastroai/redis and fastroai/postgres until a store opens a connection', () => {
    const loaded = probe(`
      require('fastroai'); require('fastroai/redis'); require('fastroai/postgres');
      const afterImports = ${LOADED_PEERS};
      const { RedisRunStore } = require('fastroai/redis');
      new RedisRunStore({ connection: { lazyConnect: true }, warnIfNotDurable: false });
      const afterRedisStore = ${LOADED_PEERS};
      const { PostgresRunStore } = require('fastroai/postgres');
      new PostgresRunStore({ connectionString: 'postgres://127.0.0.1/test' });
      process.stdout.write(JSON.stringify({ afterImports, afterRedisStore, afterPostgresStore: ${LOADED_PEERS} }));`);
    expect(loaded).toEqual({ afterImports: [], afterRedisStore: ['ioredis'], afterPostgresStore: ['ioredis', 'pg', 'pg-pool'] });
  }, 120_000);
});
