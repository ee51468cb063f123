import type BetterSqlite3 from 'better-sqlite3';
import { FastroAIError } from '../errors/fastroai-error';

/** The better-sqlite3 constructor. */
export type BetterSqlite3Constructor = typeof BetterSqlite3;

/**
 * Loads better-sqlite3 when a `SqliteRunStore` is built, so that importing fastroai never loads
 * it (it is an optional peer dependency with a native build).
 * @throws FastroAIError naming the package to install when it is missing
 */
export function loadBetterSqlite3(): BetterSqlite3Constructor {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose: an optional peer
    return require('better-sqlite3') as BetterSqlite3Constructor;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes('better-sqlite3')) {
      throw new FastroAIError('SqliteRunStore needs the package better-sqlite3: npm install better-sqlite3@12', { cause: error });
    }
    throw error;
  }
}
